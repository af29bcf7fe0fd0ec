// Loopback helpers for the proxy system suites: tiny origin servers, clients, and fd counting.
import { readdirSync } from "node:fs";
import net from "node:net";

export interface Origin {
  server: net.Server;
  port: number;
  sockets: Set<net.Socket>;
  /** connections accepted so far */
  accepted: number;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1:0 running `onSocket` for each connection, tracking its sockets. */
export async function origin(onSocket: (s: net.Socket) => void, opts: net.ServerOpts = {}): Promise<Origin> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, ...opts });
  const o: Origin = {
    server,
    port: 0,
    sockets,
    accepted: 0,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  server.on("connection", (s) => {
    o.accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  o.port = (server.address() as net.AddressInfo).port;
  return o;
}

/** A port that refuses connections (bound then closed). */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function connect(port: number, opts: Partial<net.TcpNetConnectOpts> = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true, ...opts }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Everything the socket sends until it ends (or closes). */
export function readAll(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on("data", (d: Buffer) => chunks.push(d));
    const done = () => resolve(Buffer.concat(chunks));
    s.once("end", done);
    s.once("close", done);
  });
}

export function once<T = unknown>(
  emitter: NodeJS.EventEmitter | { once(e: string, f: (...a: unknown[]) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((r) => (emitter as NodeJS.EventEmitter).once(event, (v: T) => r(v)));
}

export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Polls `cond` every 10 ms until true or `ms` passed; returns whether it became true. */
export async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/**
 * An origin whose first connection sends part of a response head (`HTTP/1.1 500 …`, `X-Bad: a`) and dies, and whose
 * later connections answer 200 with the body "fresh": a retry must read the second answer afresh.
 */
export function partialHeadThenFresh(): Promise<Origin> {
  let n = 0;
  return origin((s) => {
    const first = n++ === 0;
    s.once("data", () => {
      if (first) {
        s.write("HTTP/1.1 500 Internal\r\nX-Bad: a");
        setTimeout(() => s.destroy(), 20);
      } else s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh");
    });
  });
}
