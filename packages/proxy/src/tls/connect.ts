/**
 * The L4 shell's connection to a server: plain TCP, or TLS when the server has `ssl` (mode tcp re-encrypts the
 * relayed bytes, HAProxy `server … ssl`). `ready` names the event after which the server can be written to as
 * a tunnel: the TLS handshake (with verification) is part of connecting, so a certificate that does not verify
 * is a connection failure, retried and redispatched like a refused connect.
 */
import net from "node:net";
import tls from "node:tls";

export interface ServerSocket {
  socket: net.Socket;
  ready: "connect" | "secureConnect";
}

/** `extra`: further socket options for either kind (e.g. `onread`, which node:tls honours too). */
export function connectServer(
  meta: { address: string; port: number; tls?: tls.ConnectionOptions },
  extra: Pick<net.TcpNetConnectOpts, "onread"> = {},
): ServerSocket {
  const base = { ...extra, host: meta.address, port: meta.port, allowHalfOpen: true, noDelay: true };
  if (!meta.tls) return { socket: net.connect(base), ready: "connect" };
  return { socket: tls.connect({ ...meta.tls, ...base } as tls.ConnectionOptions), ready: "secureConnect" };
}
