/**
 * TCP check: connect, then an optional send/expect sequence like HAProxy `tcp-check send` /
 * `tcp-check expect string|rstring|binary`. Data received is matched cumulatively; a match consumes the
 * received data up to its end, so the next expect sees only what follows.
 */
import { HealthCheckConfigError, v } from "../errors.js";
import { type Checker, type CheckResult, down, up } from "../result.js";
import { attemptChecker } from "./attempt.js";
import { openConnection, type TlsOptions } from "./connection.js";
import { checkHost } from "./host.js";

export type TcpStep = { send: string | Uint8Array } | { expect: string | RegExp | Uint8Array };

export interface TcpCheckOptions {
  host: string;
  port: number;
  /** Steps run in order after the connection is established. None: a plain connect check (L4OK). */
  sequence?: readonly TcpStep[];
  /** Wrap in TLS (HAProxy `check-ssl`); `servername` sets SNI. */
  tls?: boolean | TlsOptions;
  /** Most bytes buffered while waiting for an expect. Default 16384. */
  maxBuffer?: number;
}

const EMPTY = Buffer.alloc(0);
/** A plain connect check's result: the same (frozen) object every time. */
const CONNECTED = Object.freeze(up("L4OK", "connected")) as CheckResult;

type Step = { send: Buffer } | { expect: string | RegExp | Buffer; label: string };

export function tcpCheck(opts: TcpCheckOptions): Checker {
  const host = checkHost(opts.host);
  const port = v.int("port", opts.port, 1, 65535);
  const maxBuffer = v.int("maxBuffer", opts.maxBuffer ?? 16384, 1, 16 * 1024 * 1024);
  const steps = (opts.sequence ?? []).map(compileStep);
  const tlsOpts: TlsOptions | undefined = opts.tls === true ? {} : opts.tls || undefined;
  // a plain connect check ends when TCP is up: it may use a quiet socket (no accept on the server, a RST)
  const quiet = steps.length === 0 && !tlsOpts;

  return attemptChecker((finish) => {
    let buf: Buffer = EMPTY;
    let i = 0;
    const advance = () => {
      while (i < steps.length) {
        const step = steps[i]!;
        if ("send" in step) {
          conn.write(step.send);
          i++;
          continue;
        }
        const end = matchEnd(buf, step.expect);
        if (end < 0) return; // wait for more data
        buf = buf.subarray(end);
        i++;
      }
      if (steps.length === 0 && buf.length === 0) finish(CONNECTED);
      else finish(up(steps.length ? "L7OK" : "L4OK", steps.length ? "sequence passed" : "connected", buf));
    };
    const conn = openConnection(
      host,
      port,
      tlsOpts,
      {
        ready: advance,
        data: (chunk) => {
          buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
          if (buf.length > maxBuffer) {
            return finish(down("L7RSP", `no match for ${label(steps[i])} in ${maxBuffer} bytes`, buf));
          }
          advance();
        },
        end: () => finish(down("L7RSP", `connection closed while waiting for ${label(steps[i])}`, buf)),
        error: (err, phase) => {
          const what = err.code ?? err.message;
          if (phase === "connecting") return finish(down("L4CON", `${what} connecting to ${host}:${port}`));
          if (phase === "handshaking") return finish(down("L6RSP", `TLS handshake failed: ${what}`));
          finish(down("SOCKERR", `${what} while waiting for ${label(steps[i])}`, buf));
        },
      },
      quiet,
    );
    return {
      aborted: () =>
        conn.phase === "ready"
          ? down(steps.length ? "L7TOUT" : "L4TOUT", `timeout waiting for ${label(steps[i])}`, buf)
          : conn.phase === "handshaking"
            ? down("L6TOUT", "timeout in the TLS handshake")
            : down("L4TOUT", `timeout connecting to ${host}:${port}`),
      release: () => conn.destroy(),
    };
  });
}

function compileStep(s: TcpStep, n: number): Step {
  if (s !== null && typeof s === "object" && "send" in s) {
    if (typeof s.send === "string") return { send: Buffer.from(s.send, "latin1") };
    if (s.send instanceof Uint8Array) return { send: Buffer.from(s.send) };
    throw new HealthCheckConfigError(`sequence[${n}].send`, s.send, "must be a string or bytes");
  }
  if (s !== null && typeof s === "object" && "expect" in s) {
    const e = s.expect;
    if (typeof e === "string" && e.length > 0) return { expect: e, label: `string ${JSON.stringify(e)}` };
    if (e instanceof RegExp) return { expect: e, label: `rstring ${e}` };
    if (e instanceof Uint8Array && e.length > 0) {
      return { expect: Buffer.from(e), label: `binary ${Buffer.from(e).toString("hex")}` };
    }
    throw new HealthCheckConfigError(
      `sequence[${n}].expect`,
      e,
      "is not a known expect: use a non-empty string, a RegExp or non-empty bytes",
    );
  }
  throw new HealthCheckConfigError(`sequence[${n}]`, s, "must be { send } or { expect }");
}

function matchEnd(buf: Buffer, e: string | RegExp | Buffer): number {
  if (typeof e === "string") {
    const at = buf.indexOf(e, 0, "latin1");
    return at < 0 ? -1 : at + Buffer.byteLength(e, "latin1");
  }
  if (e instanceof RegExp) {
    const m = new RegExp(e.source, e.flags.replace("g", "")).exec(buf.toString("latin1"));
    return m ? m.index + m[0].length : -1;
  }
  const at = buf.indexOf(e);
  return at < 0 ? -1 : at + e.length;
}

function label(s: Step | undefined): string {
  if (!s) return "the connection";
  return "send" in s ? "send" : s.label;
}
