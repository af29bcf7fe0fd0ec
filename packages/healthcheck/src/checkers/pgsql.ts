/**
 * HAProxy `option pgsql-check user <name>` (2.6): send a StartupMessage (protocol 3.0) with only `user` — so
 * the database is the user's name — and judge the first reply: an ErrorResponse (`E`) is down (L7RSP, with
 * the server's message); an Authentication request (`R`) of type ok, Kerberos, cleartext, crypt, MD5 or SCM
 * is up; anything else is down (L7STS). No password is ever sent; a server asking for SASL/SCRAM
 * (PostgreSQL ≥ 14's default for passwords) is down, as in HAProxy 2.6: use `trust` for the check's user.
 */
import { HealthCheckConfigError, v } from "../errors.js";
import { type Checker, down, up } from "../result.js";
import { type Dialog, type DialogStep, dialogCheck } from "./dialog.js";
import { checkHost } from "./host.js";

export interface PgsqlCheckOptions {
  host: string;
  port: number;
  /** The user named in the StartupMessage (required, as in HAProxy). */
  user: string;
}

export function pgsqlCheck(opts: PgsqlCheckOptions): Checker {
  const host = checkHost(opts.host);
  const port = v.int("port", opts.port, 1, 65535);
  const user = v.string("user", opts.user, "HAProxy's pgsql-check needs the user the check starts up as");
  if (user.includes("\0")) throw new HealthCheckConfigError("user", user, "must not contain a NUL byte");
  const hello = pgsqlStartup(user);
  return dialogCheck({ host, port, what: "PostgreSQL" }, () => pgsqlDialog(hello));
}

/** The StartupMessage: length, protocol 3.0, `user\0<name>\0`, terminator. Pure. */
export function pgsqlStartup(user: string): Buffer {
  const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from(`user\0${user}\0\0`, "utf8")]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length + 4);
  return Buffer.concat([len, body]);
}

const AUTH_OK_TYPES = new Set([0, 2, 3, 4, 5, 6]);

/** Judges the server's first message. Pure. */
export function pgsqlDialog(hello: Buffer): Dialog {
  return {
    hello,
    next(buf, closed): DialogStep {
      if (buf.length < 5)
        return closed ? { result: down("L7RSP", "PostgreSQL: short reply", buf) } : { wait: true };
      if (buf[0] === 0x45) return { result: down("L7RSP", `PostgreSQL: ${errorMessage(buf)}`) };
      if (buf.length < 9)
        return closed ? { result: down("L7STS", "PostgreSQL unknown error", buf) } : { wait: true };
      const len = buf.readUInt32BE(1);
      const ok =
        buf[0] === 0x52 && (len === 8 || len === 10 || len === 12) && AUTH_OK_TYPES.has(buf.readUInt32BE(5));
      return {
        result: ok ? up("L7OK", "PostgreSQL server is ok") : down("L7STS", "PostgreSQL unknown error", buf),
      };
    },
  };
}

/** The `M` (message) field of an ErrorResponse, else its printable bytes. */
function errorMessage(buf: Buffer): string {
  let at = 5;
  while (at < buf.length && buf[at] !== 0) {
    const end = buf.indexOf(0, at + 1);
    if (end < 0) break;
    if (buf[at] === 0x4d) return buf.subarray(at + 1, end).toString("utf8");
    at = end + 1;
  }
  return buf.subarray(5).toString("latin1");
}
