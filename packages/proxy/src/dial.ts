/**
 * Which kind of `Conn` a connection gets. Plain TCP to or from an IP address uses the lean kind (`HandleConn`)
 * when this Node.js has its bindings; TLS, host names, and the fallback use `SocketConn` over `net.Socket`,
 * reading with `onread` into `ReadBuffers` where the socket allows it.
 *
 * A server connection with TLS (`server … ssl`) counts as connected once its handshake, with verification, is
 * done: a certificate that does not verify is a connection failure, retried and redispatched like a refused
 * connect.
 */
import net from "node:net";
import tls from "node:tls";
import { tcpWrap } from "@lbkit/core";
import { type Conn, SocketConn } from "./conn.js";
import type { Deadlines } from "./deadlines.js";
import { type ConnEnv, HandleConn } from "./handle-conn.js";
import { firstReadBuffer, ReadBuffers, userReads } from "./reads.js";
import type { TurnClock } from "./turn-clock.js";

/**
 * The lean connections' environment for a proxy, or undefined when connections use `net.Socket`: the bindings
 * are missing, or `LBKIT_PROXY_TRANSPORT=net` asks for it.
 */
export function connEnv(clock: TurnClock, deadlines: Deadlines): ConnEnv | undefined {
  if (process.env.LBKIT_PROXY_TRANSPORT === "net") return undefined;
  const p = tcpWrap();
  if (p.bindings === undefined) return undefined;
  return { b: p.bindings, clock, deadlines };
}

/**
 * `net.isIP` per address, remembered: a proxy dials a few addresses once per connection, and the IPv6 test that
 * chose `connect6` ran Node's long IPv6 pattern on every dial (IPv4 addresses fail it only at the end): about 0.5 %
 * of L4 connection churn's CPU samples.
 */
const families = new Map<string, number>();
function family(address: string): number {
  let f = families.get(address);
  if (f === undefined) {
    if (families.size >= 4096) families.clear(); // addresses come from configuration: this bound is never reached
    f = net.isIP(address);
    families.set(address, f);
  }
  return f;
}

/** A connection to a server (`tls`: HAProxy `server … ssl`); its handler hears `connConnect` or `connClose`. */
export function dial(
  to: { address: string; port: number; tls?: tls.ConnectionOptions | undefined },
  env: ConnEnv | undefined,
): Conn {
  const base = { host: to.address, port: to.port, allowHalfOpen: true, noDelay: true };
  if (to.tls) return new SocketConn(tls.connect({ ...to.tls, ...base } as tls.ConnectionOptions), true);
  if (env !== undefined) {
    const f = family(to.address);
    if (f !== 0) return HandleConn.connect(env, to.address, to.port, f === 6);
  }
  // onread's callbacks reach the connection, created right after the socket, through `read`
  let conn: SocketConn | undefined;
  const reads = new ReadBuffers();
  const socket = net.connect({
    ...base,
    onread: {
      buffer: () => (conn === undefined ? firstReadBuffer() : reads.next()), // asked once inside connect()
      callback: (n: number, b: Uint8Array) => (conn as SocketConn).read(reads.take(n, b as Buffer)),
    },
  });
  conn = new SocketConn(socket, true, true);
  return conn;
}

/** An accepted `net.Socket` as a Conn (reads switched to reused buffers where the socket allows it). */
export function adopt(socket: net.Socket): Conn {
  let conn: SocketConn | undefined;
  const reads = new ReadBuffers();
  const switched = userReads(socket, reads, (d) => (conn as SocketConn).read(d));
  conn = new SocketConn(socket, false, switched);
  return conn;
}
