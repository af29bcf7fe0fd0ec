/**
 * TLS termination on a listener: a SecureContext per certificate, chosen by SNI (exact name, then wildcard,
 * else the first certificate), ALPN, modern defaults (TLS 1.2 minimum, ECDHE with AEAD ciphers only for 1.2;
 * 1.3's suites are all AEAD), and certificate reload: `setCertificates` swaps the contexts, and handshakes that
 * start afterwards use the new ones while established connections carry on. The accepted TCP socket (after an
 * optional PROXY header) is wrapped in a server-side TLSSocket; the session starts once the handshake is done.
 */
import { X509Certificate } from "node:crypto";
import type net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";
import type { Timers } from "@lbkit/core";
import { ProxyConfigError } from "../errors.js";
import { namesFromAltNames, sniLookup } from "./sni.js";

export interface TlsCertificate {
  /** PEM certificate chain. */
  cert: string | Buffer;
  /** PEM private key. */
  key: string | Buffer;
  /** Server names it serves (`*.example.com` allowed). Default: its subjectAltName DNS names, else its CN. */
  names?: readonly string[];
}

export interface TlsOptions {
  /** The first one is also the default (no SNI, or a name no certificate serves). */
  certificates: readonly TlsCertificate[];
  /** ALPN protocols offered, in preference order: "h2" (http mode only) and/or "http/1.1". Default ["http/1.1"]. */
  alpn?: readonly string[];
  /** Default "TLSv1.2". */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  /** TLS 1.2 cipher list (OpenSSL syntax). Default: ECDHE + AES-GCM / ChaCha20-Poly1305 only. */
  ciphers?: string;
  /** Longest handshake, ms. Default the frontend's `timeouts.httpRequest`. */
  handshakeTimeout?: number;
}

/** Mozilla's "intermediate" TLS 1.2 suites: forward secrecy and AEAD only. */
export const MODERN_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

export interface NormalTls {
  alpn: string[];
  minVersion: "TLSv1.2" | "TLSv1.3";
  ciphers: string;
  handshakeTimeout: number;
  certificates: readonly TlsCertificate[];
}

export function normaliseTls(option: string, v: TlsOptions, dfltTimeout: number): NormalTls {
  if (typeof v !== "object" || v === null)
    throw new ProxyConfigError(option, v, "must be { certificates: [{ cert, key, names? }], alpn?, … }");
  for (const k of Object.keys(v))
    if (!["certificates", "alpn", "minVersion", "ciphers", "handshakeTimeout"].includes(k))
      throw new ProxyConfigError(
        `${option}.${k}`,
        k,
        "is not an option (known: certificates, alpn, minVersion, ciphers, handshakeTimeout)",
      );
  const alpn = [...(v.alpn ?? ["http/1.1"])];
  for (const p of alpn)
    if (p !== "http/1.1" && p !== "h2")
      throw new ProxyConfigError(`${option}.alpn`, p, 'must list "h2" and/or "http/1.1"');
  const minVersion = v.minVersion ?? "TLSv1.2";
  if (minVersion !== "TLSv1.2" && minVersion !== "TLSv1.3")
    throw new ProxyConfigError(`${option}.minVersion`, minVersion, 'must be "TLSv1.2" or "TLSv1.3"');
  const t = v.handshakeTimeout ?? dfltTimeout;
  if (!Number.isInteger(t) || t < 1 || t > 86_400_000)
    throw new ProxyConfigError(`${option}.handshakeTimeout`, t, "must be milliseconds in 1..86400000");
  const n: NormalTls = {
    alpn,
    minVersion,
    ciphers: v.ciphers ?? MODERN_CIPHERS,
    handshakeTimeout: t,
    certificates: v.certificates,
  };
  buildContexts(option, n, v.certificates); // bad PEM fails at construction
  return n;
}

interface Contexts {
  byName: Map<string, tls.SecureContext>;
  dflt: tls.SecureContext;
}

function buildContexts(option: string, cfg: NormalTls, certs: readonly TlsCertificate[]): Contexts {
  if (!Array.isArray(certs) || certs.length === 0)
    throw new ProxyConfigError(`${option}.certificates`, certs, "must list at least one { cert, key }");
  const byName = new Map<string, tls.SecureContext>();
  let dflt: tls.SecureContext | undefined;
  certs.forEach((c, i) => {
    const at = `${option}.certificates[${i}]`;
    let ctx: tls.SecureContext;
    let names: string[];
    try {
      ctx = tls.createSecureContext({
        cert: c.cert,
        key: c.key,
        minVersion: cfg.minVersion,
        ciphers: cfg.ciphers,
        honorCipherOrder: true,
      });
      const x = new X509Certificate(c.cert);
      names = c.names
        ? c.names.map((s: string) => s.toLowerCase())
        : namesFromAltNames(x.subjectAltName, x.subject);
    } catch (e) {
      throw new ProxyConfigError(at, "(PEM)", `is not a usable certificate and key: ${(e as Error).message}`);
    }
    dflt ??= ctx;
    for (const name of names) if (!byName.has(name)) byName.set(name, ctx);
  });
  return { byName, dflt: dflt as tls.SecureContext };
}

/** Why a handshake failed, as a termination cause letter: C client went away/bad handshake, c timeout. */
export type TlsFailure = { cause: "C" | "c"; reason: string };

export class TlsTerminator {
  private contexts: Contexts;

  constructor(
    private readonly option: string,
    readonly cfg: NormalTls,
  ) {
    this.contexts = buildContexts(option, cfg, cfg.certificates);
  }

  /** Replace the certificates: handshakes from now on use the new ones; established connections are untouched. */
  setCertificates(certs: readonly TlsCertificate[]): void {
    this.contexts = buildContexts(this.option, this.cfg, certs);
  }

  /**
   * Starts the server side of a handshake on `socket` (with `rest`, bytes already read after a PROXY header);
   * `done` gets the TLSSocket once it is secure, or a failure (the socket is then destroyed).
   */
  wrap(
    socket: net.Socket,
    rest: Buffer | undefined,
    timers: Timers,
    done: (r: tls.TLSSocket | TlsFailure) => void,
  ): void {
    const { dflt } = this.contexts;
    const transport: net.Socket | Duplex = rest && rest.length > 0 ? streamOver(socket, rest) : socket;
    const s = new tls.TLSSocket(transport as net.Socket, {
      isServer: true,
      secureContext: dflt,
      ALPNProtocols: this.cfg.alpn,
      SNICallback: (name, cb) => cb(null, sniLookup(this.contexts.byName, name) ?? this.contexts.dflt),
    });
    let over = false;
    const onError = (e: Error) => fail({ cause: "C", reason: `TLS handshake failed: ${e.message}` });
    const onClose = () => fail({ cause: "C", reason: "closed during the TLS handshake" });
    const fail = (f: TlsFailure) => {
      if (over) return;
      over = true;
      timers.clearTimeout(deadline);
      s.destroy();
      socket.destroy();
      done(f);
    };
    const deadline = timers.setTimeout(
      () => fail({ cause: "c", reason: "TLS handshake timeout" }),
      this.cfg.handshakeTimeout,
    );
    s.on("error", onError);
    s.on("close", onClose);
    s.once("secure", () => {
      if (over) return;
      over = true;
      timers.clearTimeout(deadline);
      s.off("error", onError);
      s.off("close", onClose);
      done(s);
    });
  }
}

/** A Duplex over `socket` that yields `rest` first (if any), then the socket's bytes; writes go to the socket. */
export function streamOver(socket: net.Socket, rest?: Buffer): Duplex {
  const d = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  if (rest && rest.length > 0) d.push(rest);
  socket.on("data", (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on("end", () => d.push(null));
  socket.on("close", () => d.destroy());
  return d;
}
