/**
 * The skeleton HAProxy's protocol checks share (`option mysql-check`, `pgsql-check`, `redis-check`, `smtpchk`,
 * `ldap-check`, `ssl-hello-chk`): connect, say something, read the reply, judge it. The judging is a pure
 * dialog — bytes in, a step out — so each protocol is a small codec tested without sockets; this shell only
 * wires one dialog to one connection.
 */
import { type CheckCode, type Checker, type CheckResult, down } from "../result.js";
import { attemptChecker } from "./attempt.js";
import { openConnection, type TlsOptions } from "./connection.js";

/** What a dialog wants next. */
export type DialogStep =
  /** Not enough bytes yet to judge: keep reading. */
  | { wait: true }
  /** Send these bytes; what is received from now on is judged afresh (HAProxy resets its buffer on a send). */
  | { send: Buffer }
  /** The verdict; `bye` is written (not awaited) before the connection is closed. */
  | { result: CheckResult; bye?: Buffer };

/** One protocol conversation. Pure: a fresh one per attempt, fed everything received since the last send. */
export interface Dialog {
  /** Sent as soon as the connection is up (before anything is read), as HAProxy's rulesets do. */
  readonly hello?: Buffer;
  /** `closed`: the peer ended the connection, no more bytes will come. */
  next(received: Buffer, closed: boolean): DialogStep;
}

export interface DialogCheckOptions {
  host: string;
  port: number;
  tls?: TlsOptions | undefined;
  /** The code for a timeout once connected (L7TOUT; L6TOUT for ssl-hello). */
  timeoutCode?: CheckCode;
  /** Most bytes buffered before the reply is judged too long. */
  maxBuffer?: number;
  /** What the check is called in reasons (e.g. `MySQL`). */
  what: string;
}

export function dialogCheck(opts: DialogCheckOptions, dialog: () => Dialog): Checker {
  const { host, port } = opts;
  const maxBuffer = opts.maxBuffer ?? 16384;
  const toutCode = opts.timeoutCode ?? "L7TOUT";
  return attemptChecker((finish) => {
    const d = dialog();
    let buf: Buffer = Buffer.alloc(0);
    const judge = (closed: boolean) => {
      const step = d.next(buf, closed);
      if ("result" in step) {
        if (step.bye) conn.write(step.bye);
        return finish(step.result);
      }
      if ("send" in step) {
        if (closed)
          return finish(down("L7RSP", `${opts.what}: connection closed before the next exchange`, buf));
        buf = Buffer.alloc(0);
        conn.write(step.send);
        return;
      }
      if (closed) finish(down("L7RSP", `${opts.what}: connection closed before a complete reply`, buf));
      else if (buf.length > maxBuffer) {
        finish(down("L7RSP", `${opts.what}: no complete reply in ${maxBuffer} bytes`, buf));
      }
    };
    const conn = openConnection(host, port, opts.tls, {
      ready: () => {
        if (d.hello) conn.write(d.hello);
      },
      data: (chunk) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        judge(false);
      },
      end: () => judge(true),
      error: (err, phase) => {
        const what = err.code ?? err.message;
        if (phase === "connecting") return finish(down("L4CON", `${what} connecting to ${host}:${port}`));
        if (phase === "handshaking") return finish(down("L6RSP", `TLS handshake failed: ${what}`));
        if (buf.length > 0) return judge(true); // a reset right after the reply: judge what came
        finish(down("SOCKERR", `${what} waiting for the ${opts.what} reply`));
      },
    });
    return {
      aborted: () =>
        conn.phase === "ready"
          ? down(toutCode, `timeout waiting for the ${opts.what} reply`, buf)
          : conn.phase === "handshaking"
            ? down("L6TOUT", "timeout in the TLS handshake")
            : down("L4TOUT", `timeout connecting to ${host}:${port}`),
      release: () => conn.destroy(),
    };
  });
}
