/**
 * HAProxy `option ssl-hello-chk`: send a ClientHello and require the first 5 bytes of the reply to be a TLS
 * record of type handshake (0x16, a ServerHello) or alert (0x15) — a server that speaks SSL/TLS, whatever it
 * thinks of the hello. Up is L6OK; anything else L6RSP, a timeout L6TOUT. No handshake is completed and no
 * certificate is checked: use a TLS-wrapped check (`tls` on tcpCheck/httpCheck) for that.
 *
 * Our hello is our own: TLS 1.2 (record version 1.0, as clients send), 32 random bytes, no session, common
 * suites (AES-GCM and CBC with ECDHE/RSA, plus the TLS 1.3 ones), null compression, no extensions.
 */
import { randomBytes } from "node:crypto";
import { v } from "../errors.js";
import { type Checker, down, up } from "../result.js";
import { type Dialog, type DialogStep, dialogCheck } from "./dialog.js";
import { checkHost } from "./host.js";

export interface SslHelloCheckOptions {
  host: string;
  port: number;
}

export function sslHelloCheck(opts: SslHelloCheckOptions): Checker {
  const host = checkHost(opts.host);
  const port = v.int("port", opts.port, 1, 65535);
  return dialogCheck({ host, port, what: "TLS", timeoutCode: "L6TOUT" }, () =>
    sslHelloDialog(randomBytes(32)),
  );
}

const SUITES = [
  0xc02f, 0xc030, 0xc02b, 0xc02c, 0xc013, 0xc014, 0xc009, 0xc00a, 0x009c, 0x009d, 0x002f, 0x0035, 0x000a,
  0x1301, 0x1302, 0x1303,
];

/** A ClientHello record with this 32-byte random. Pure. */
export function clientHello(random: Buffer): Buffer {
  const suites = Buffer.alloc(2 + SUITES.length * 2);
  suites.writeUInt16BE(SUITES.length * 2);
  for (const [i, s] of SUITES.entries()) suites.writeUInt16BE(s, 2 + i * 2);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), // client_version TLS 1.2
    random,
    Buffer.from([0x00]), // no session id
    suites,
    Buffer.from([0x01, 0x00]), // compression: null
  ]);
  const hs = Buffer.concat([Buffer.from([0x01, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, hs.length >> 8, hs.length & 0xff]), hs]);
}

/** The hello, then the first record header of the reply. Pure. */
export function sslHelloDialog(random: Buffer): Dialog {
  return {
    hello: clientHello(random),
    next(buf, closed): DialogStep {
      if (buf.length < 5) {
        return closed
          ? { result: down("L6RSP", "TLS: no record in the reply (connection closed)", buf) }
          : { wait: true };
      }
      if (buf[0] === 0x16) return { result: up("L6OK", "TLS: handshake record in reply to the hello") };
      if (buf[0] === 0x15) return { result: up("L6OK", "TLS: alert record in reply to the hello") };
      return { result: down("L6RSP", "TLS: the reply is not a TLS handshake or alert record", buf) };
    },
  };
}
