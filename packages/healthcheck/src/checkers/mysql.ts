/**
 * HAProxy `option mysql-check [user <name> [post-41|pre-41]]`. Without a user: read the server's greeting
 * (the initial handshake packet); up unless it is an error packet (0xff) — e.g. `Host is blocked`. With a
 * user: send a client authentication packet for that user with no password, followed by COM_QUIT, and
 * judge the packet after the greeting: up unless it is an error packet (`Access denied`). The user must
 * exist without a password and may need no privilege (`CREATE USER 'haproxy'@'<lb address>'`). Logging in
 * keeps the check out of MySQL's `max_connect_errors` count, which blocks a host that only connects.
 */
import { HealthCheckConfigError, v } from "../errors.js";
import { type Checker, down, up } from "../result.js";
import { type Dialog, type DialogStep, dialogCheck } from "./dialog.js";
import { checkHost } from "./host.js";

export interface MysqlCheckOptions {
  host: string;
  port: number;
  /** Log in as this user (no password), then quit. None: only the greeting is read. */
  user?: string;
  /** The authentication packet's format: `post-41` (MySQL ≥ 4.1, the default) or `pre-41`. */
  protocol?: "post-41" | "pre-41";
}

export function mysqlCheck(opts: MysqlCheckOptions): Checker {
  const host = checkHost(opts.host);
  const port = v.int("port", opts.port, 1, 65535);
  const protocol = v.oneOf("protocol", opts.protocol ?? "post-41", ["post-41", "pre-41"] as const);
  let hello: Buffer | undefined;
  if (opts.user !== undefined) {
    const user = v.string("user", opts.user, "the MySQL user the check logs in as, without a password");
    if (user.includes("\0")) throw new HealthCheckConfigError("user", user, "must not contain a NUL byte");
    hello = mysqlLogin(user, protocol);
  }
  return dialogCheck({ host, port, what: "MySQL" }, () => mysqlDialog(hello));
}

/** The client authentication packet (sequence id 1) for `user` without a password, then COM_QUIT. Pure. */
export function mysqlLogin(user: string, protocol: "post-41" | "pre-41"): Buffer {
  const name = Buffer.from(user, "utf8");
  const body =
    protocol === "post-41"
      ? Buffer.concat([
          le(0x8200, 4), // capabilities: PROTOCOL_41 | SECURE_CONNECTION
          le(0x01008000, 4), // max packet size
          Buffer.from([0x21]), // character set utf8_general_ci
          Buffer.alloc(23), // reserved
          name,
          Buffer.from([0, 0]), // end of name; an empty auth response (length 0)
        ])
      : Buffer.concat([le(0x8000, 2), le(0x010000, 3), name, Buffer.from([0, 0])]);
  const quit = Buffer.from([1, 0, 0, 0, 0x01]); // length 1, sequence 0, COM_QUIT
  return Buffer.concat([le(body.length, 3), Buffer.from([1]), body, quit]);
}

/** Judges the greeting and, with a login, the packet after it. Pure. */
export function mysqlDialog(login: Buffer | undefined): Dialog {
  return {
    ...(login ? { hello: login } : {}),
    next(buf, closed): DialogStep {
      const greeting = packetAt(buf, 0, closed);
      if (!("end" in greeting)) return greeting;
      const version = cString(buf, 5);
      if (!login) return { result: up("L7OK", `MySQL ${version}`) };
      const reply = packetAt(buf, greeting.end, closed);
      if (!("end" in reply)) return reply;
      return { result: up("L7OK", `MySQL ${version}: logged in`) };
    },
  };
}

/** The packet at `at`: its end, a wait, or the verdict when it is truncated or an error packet. */
function packetAt(buf: Buffer, at: number, closed: boolean): { end: number } | DialogStep {
  const truncated = (): DialogStep =>
    closed ? { result: down("L7RSP", "MySQL: truncated packet (connection closed)", buf) } : { wait: true };
  if (buf.length < at + 4) return truncated();
  const len = buf.readUIntLE(at, 3);
  if (buf.length < at + 4 + len) return truncated();
  if (len > 0 && buf[at + 4] === 0xff) {
    const code = len >= 3 ? buf.readUInt16LE(at + 5) : 0;
    let msg = buf.subarray(at + 7, at + 4 + len).toString("utf8");
    if (msg.startsWith("#")) msg = msg.slice(6); // the 4.1 SQL state marker and state
    return { result: down("L7STS", `MySQL error ${code}: ${msg}`) };
  }
  return { end: at + 4 + len };
}

function le(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntLE(n, 0, bytes);
  return b;
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.subarray(at, end < 0 ? buf.length : end).toString("latin1");
}
