/**
 * A check's connection: plain TCP, optionally with TLS on top, that knows how far it got — so a refused
 * connect (L4), a failed handshake (L6) and a failure after that (L7) can be told apart, as HAProxy does.
 * Plain TCP to an IP address goes over libuv's TCP handle directly (tcp-handle.ts) when this Node.js offers
 * it; a host name or TLS, or a Node.js without it, over `net.Socket` (and `tls`).
 */
import net from "node:net";
import tls from "node:tls";
import { quietSocket } from "./quiet-socket.js";
import { HandleConnection, tcpHandleBindings } from "./tcp-handle.js";

export interface TlsOptions {
  /** SNI. Default: `host` when it is a name; none for an IP address. */
  servername?: string;
  ca?: string | Buffer;
  /** Verify the certificate (against `servername`, else `host`). Default true. */
  rejectUnauthorized?: boolean;
}

export type ConnectionPhase = "connecting" | "handshaking" | "ready";

export interface CheckConnection {
  readonly phase: ConnectionPhase;
  /** TCP is up (whatever TLS is doing). */
  readonly tcpUp: boolean;
  /** Send `data` to the peer (once `ready`); a failure arrives as `error`. Ignored once destroyed. */
  write(data: Uint8Array): void;
  /** Close the connection; no event follows. */
  destroy(): void;
}

export interface ConnectionEvents {
  ready(): void;
  data(chunk: Buffer): void;
  end(): void;
  /** `phase` is where the connection was when it failed. */
  error(err: NodeJS.ErrnoException, phase: ConnectionPhase): void;
}

/**
 * `quiet`: a plain connect check, which ends as soon as TCP is up; it then uses a quiet socket when it can
 * (quiet-socket.ts: TCP_QUICKACK off, closed with a RST, so the server never accepts).
 */
export function openConnection(
  host: string,
  port: number,
  tlsOpts: TlsOptions | undefined,
  on: ConnectionEvents,
  quiet = false,
): CheckConnection {
  if (!tlsOpts) {
    const family = ipFamily(host);
    const lean = family !== 0 ? tcpHandleBindings() : undefined;
    if (lean) {
      const fd = quiet ? quietSocket(family === 6 ? 6 : 4) : -1;
      return new HandleConnection(lean, host, family === 6, port, on, fd);
    }
  }
  return socketConnection(host, port, tlsOpts, on);
}

/** `net.isIP` per host, remembered: a check to the same host asks again every interval (a regex each time). */
const families = new Map<string, number>();
function ipFamily(host: string): number {
  let family = families.get(host);
  if (family === undefined) {
    if (families.size >= 4096) families.clear(); // hosts that churn do not grow it without bound
    family = net.isIP(host);
    families.set(host, family);
  }
  return family;
}

function socketConnection(
  host: string,
  port: number,
  tlsOpts: TlsOptions | undefined,
  on: ConnectionEvents,
): CheckConnection {
  let phase: ConnectionPhase = "connecting";
  let failed = false;
  const raw = net.connect({ host, port });
  const sni = tlsOpts?.servername ?? (net.isIP(host) ? undefined : host);
  const socket: net.Socket = tlsOpts
    ? tls.connect({
        socket: raw,
        host, // what the certificate is checked against when there is no SNI
        ...(sni !== undefined ? { servername: sni } : {}),
        ...(tlsOpts.ca !== undefined ? { ca: tlsOpts.ca } : {}),
        rejectUnauthorized: tlsOpts.rejectUnauthorized ?? true,
      })
    : raw;
  const fail = (err: NodeJS.ErrnoException) => {
    if (failed) return;
    failed = true;
    on.error(err, phase);
  };
  raw.once("connect", () => {
    if (!tlsOpts) {
      phase = "ready";
      on.ready();
    } else phase = "handshaking";
  });
  if (tlsOpts) {
    socket.once("secureConnect", () => {
      phase = "ready";
      on.ready();
    });
    raw.on("error", fail);
  }
  socket.on("error", fail);
  socket.on("data", (chunk: Buffer) => on.data(chunk));
  socket.on("end", () => on.end());
  return {
    get phase() {
      return phase;
    },
    get tcpUp() {
      return phase !== "connecting";
    },
    write(data) {
      if (!socket.destroyed) socket.write(data);
    },
    destroy() {
      socket.destroy();
      raw.destroy();
    },
  };
}
