/**
 * HAProxy `option ldap-check`: an anonymous LDAPv3 simple bind (message id 1, empty name and password), and
 * the reply must be a BindResponse for message 1 with resultCode 0 (success). A reply that is not an LDAP
 * message for it is down with L7RSP ("Not LDAPv3 protocol"); a non-zero resultCode is down with L7STS (49:
 * invalidCredentials, 48: inappropriateAuthentication when anonymous binds are disabled, …).
 */
import { v } from "../errors.js";
import { type Checker, down, up } from "../result.js";
import type { TlsOptions } from "./connection.js";
import { type Dialog, type DialogStep, dialogCheck } from "./dialog.js";
import { checkHost } from "./host.js";

export interface LdapCheckOptions {
  host: string;
  port: number;
  /** LDAPS (port 636, HAProxy `check-ssl`). */
  tls?: boolean | TlsOptions;
}

// BER: LDAPMessage SEQUENCE { messageID INTEGER 1, [APPLICATION 0] BindRequest { version 3, name "", simple [0] "" } }
const BIND = Buffer.from([
  0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
]);

export function ldapCheck(opts: LdapCheckOptions): Checker {
  const host = checkHost(opts.host);
  const port = v.int("port", opts.port, 1, 65535);
  const tls = opts.tls === true ? {} : opts.tls || undefined;
  return dialogCheck({ host, port, tls, what: "LDAP" }, ldapDialog);
}

const NOT_LDAP = "Not LDAPv3 protocol";

/** The anonymous bind, then the BindResponse. Pure. */
export function ldapDialog(): Dialog {
  return {
    hello: BIND,
    next(buf, closed): DialogStep {
      const more = (): DialogStep =>
        closed ? { result: down("L7RSP", `LDAP: ${NOT_LDAP} (short reply)`, buf) } : { wait: true };
      if (buf.length > 0 && buf[0] !== 0x30) return { result: down("L7RSP", `LDAP: ${NOT_LDAP}`, buf) };
      if (buf.length < 14) return more();
      let at = 1;
      let msgLen = buf[at]!;
      if (msgLen & 0x80) {
        const n = msgLen & 0x7f;
        if (n !== 2 && n !== 4) return { result: down("L7RSP", `LDAP: ${NOT_LDAP}`, buf) };
        if (buf.length < at + 1 + n) return more();
        msgLen = n === 2 ? buf.readUInt16BE(at + 1) : buf.readUInt32BE(at + 1);
        at += n;
      }
      at += 1;
      if (buf.length < at + msgLen) return more();
      if (buf[at] !== 0x02 || buf[at + 1] !== 0x01 || buf[at + 2] !== 0x01 || buf[at + 3] !== 0x61) {
        return { result: down("L7RSP", `LDAP: ${NOT_LDAP}`, buf) };
      }
      at += 4;
      const opLenBytes = buf[at]! & 0x80 ? buf[at]! & 0x7f : 0;
      at += 1 + opLenBytes;
      if (buf.length < at + 3) return more();
      if (buf[at] !== 0x0a || buf[at + 1] !== 0x01)
        return { result: down("L7RSP", `LDAP: ${NOT_LDAP}`, buf) };
      const code = buf[at + 2]!;
      return code === 0
        ? { result: up("L7OK", "LDAP: Success (anonymous bind)") }
        : { result: down("L7STS", `LDAP: bind resultCode ${code} (RFC 4511 section 4.1.9)`) };
    },
  };
}
