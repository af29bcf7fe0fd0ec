/**
 * HAProxy `option smtpchk [HELO|EHLO <domain>]` (2.6): the greeting must start with a 3-digit code followed by
 * a space or CR (else L7RSP) and be a 2xx (else L7STS, with the server's text); then `HELO localhost` (or the
 * given command) is sent and its reply must start with a 2xx code (followed by `-`, space or CR; else L7STS).
 * A multi-line greeting (`220-…`) is down, as in HAProxy 2.6. On success `QUIT` is sent before closing.
 */
import { HealthCheckConfigError, v } from "../errors.js";
import { type Checker, down, up } from "../result.js";
import type { TlsOptions } from "./connection.js";
import { type Dialog, type DialogStep, dialogCheck } from "./dialog.js";
import { checkHost } from "./host.js";

export interface SmtpCheckOptions {
  host: string;
  port: number;
  /** The greeting command: `HELO` (the default, with domain `localhost`) or `EHLO`. */
  command?: "HELO" | "EHLO";
  /** The domain sent with the command. Default `localhost`. */
  domain?: string;
  /** SMTP over TLS (port 465, HAProxy `check-ssl`). */
  tls?: boolean | TlsOptions;
}

const QUIT = Buffer.from("QUIT\r\n", "latin1");

export function smtpCheck(opts: SmtpCheckOptions): Checker {
  const host = checkHost(opts.host);
  const port = v.int("port", opts.port, 1, 65535);
  const command = v.oneOf("command", opts.command ?? "HELO", ["HELO", "EHLO"] as const);
  const domain = v.string("domain", opts.domain ?? "localhost");
  if (/[\s\0]/.test(domain)) {
    throw new HealthCheckConfigError(
      "domain",
      domain,
      "must be one word (a domain name), without spaces or controls",
    );
  }
  const tls = opts.tls === true ? {} : opts.tls || undefined;
  const hello = Buffer.from(`${command} ${domain}\r\n`, "latin1");
  return dialogCheck({ host, port, tls, what: "SMTP" }, () => smtpDialog(hello));
}

/** Greeting, then HELO/EHLO. Pure. */
export function smtpDialog(helo: Buffer): Dialog {
  let greeted = false;
  return {
    next(buf, closed): DialogStep {
      const text = buf.toString("latin1");
      const lineEnd = text.indexOf("\n");
      if (text.length < 4 || (lineEnd < 0 && !closed)) {
        return closed ? { result: down("L7RSP", "SMTP: short reply", buf) } : { wait: true };
      }
      const line = text.slice(0, lineEnd < 0 ? text.length : lineEnd).replace(/\r$/, "");
      const said = line.slice(4).trimStart();
      if (!greeted) {
        if (!/^[0-9]{3}[ \r]/.test(text)) return { result: down("L7RSP", `SMTP: ${line}`) };
        if (!/^2[0-9]{2}[ \r]/.test(text))
          return { result: down("L7STS", `SMTP ${line.slice(0, 3)}: ${said}`) };
        greeted = true;
        return { send: helo };
      }
      if (!/^2[0-9]{2}[- \r]/.test(text))
        return { result: down("L7STS", `SMTP ${line.slice(0, 3)}: ${said}`) };
      return { result: up("L7OK", `SMTP ${line.slice(0, 3)}: ${said}`), bye: QUIT };
    },
  };
}
