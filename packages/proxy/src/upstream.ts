/**
 * Keep-alive connections to one server. A connection is handed back (`release`) only after a complete
 * response that allowed reuse; idle ones expire after `idleTimeout`, at most `maxIdle` are kept (newest
 * reused first, so the oldest age out), and a connection that served `maxRequests` is closed. A server that
 * closes an idle connection is noticed (its FIN or error) and the connection dropped; `take` also refuses
 * one whose read side already ended. Non-idempotent requests never ride a reused connection: the server may
 * close it at the very moment the request is sent, and such a request cannot be retried (HAProxy
 * `http-reuse safe` has the same concern).
 *
 * Each socket's listeners are attached once and forward to its current `owner`, so a request costs no closure.
 * Nor a timer: a socket's inactivity timeout is set when it connects and again only when its value changes
 * (Node allocates a timer per `setTimeout` call), and the idle timeout is one timer per pool, armed for the
 * oldest idle connection, instead of a socket timeout switched at every release and reuse.
 *
 * A plain (non-TLS) connection reads with `onread` into ReadBuffers (reads.ts), not with `data` events.
 */
import net from "node:net";
import tls from "node:tls";
import type { Clock, TimerHandle, Timers } from "@lbkit/core";
import { firstReadBuffer, ReadBuffers } from "./reads.js";

/** What a connection reports to the transaction that currently uses it. */
export interface UpstreamOwner {
  onUpstreamConnect(c: UpstreamConn): void;
  onUpstreamData(c: UpstreamConn, d: Buffer): void;
  onUpstreamEnd(c: UpstreamConn): void;
  onUpstreamClose(c: UpstreamConn): void;
  onUpstreamTimeout(c: UpstreamConn): void;
  onUpstreamDrain(c: UpstreamConn): void;
  /** One of the handlers above threw. */
  onUpstreamFailure(e: unknown): void;
}

export class UpstreamConn {
  owner: UpstreamOwner | undefined;
  requests = 0;
  connected = false;
  closed = false;
  /** The server sent something while no request was in flight, or ended: never reuse. */
  spoiled = false;
  /** When it was last released to the pool (clock ms). */
  idleSince = 0;

  /** Where a plain connection's reads land (`onread`, see reads.ts). */
  readonly reads = new ReadBuffers();

  constructor(
    readonly socket: net.Socket,
    readonly pool: UpstreamPool,
    /** The socket reads through `read` and `reads.next()` (onread) rather than `data` events. */
    onread = false,
  ) {
    socket.on(socket instanceof tls.TLSSocket ? "secureConnect" : "connect", () => {
      this.connected = true;
      this.guard(() => this.owner?.onUpstreamConnect(this));
    });
    if (!onread) socket.on("data", (d: Buffer) => this.data(d));
    socket.on("end", () => {
      this.spoiled = true;
      if (this.owner) this.guard(() => this.owner?.onUpstreamEnd(this));
      else this.drop();
    });
    socket.on("error", () => {
      this.spoiled = true;
    });
    socket.on("close", () => {
      this.closed = true;
      this.spoiled = true;
      this.pool.forget(this);
      this.guard(() => this.owner?.onUpstreamClose(this));
    });
    socket.on("timeout", () => {
      if (this.owner) this.guard(() => this.owner?.onUpstreamTimeout(this));
      else this.drop(); // idle for its whole inactivity timeout (the pool's idle timeout usually ends it first)
    });
    socket.on("drain", () => this.guard(() => this.owner?.onUpstreamDrain(this)));
  }

  private data(d: Buffer): void {
    if (this.owner) this.owner.onUpstreamData(this, d);
    else this.drop(); // bytes while idle: the server is out of step
  }

  /** One read of `n` bytes into `b` (onread); always true: pausing is the owner's call. */
  read(n: number, b: Buffer): boolean {
    this.data(this.reads.take(n, b));
    return true;
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const owner = this.owner;
      this.drop();
      owner?.onUpstreamFailure(e);
    }
  }

  private idleMs = -1;
  /** Arms the inactivity timeout; an unchanged value is not set again (Node allocates a timer per call). */
  idle(ms: number): void {
    if (ms === this.idleMs) return;
    this.idleMs = ms;
    this.socket.setTimeout(ms);
  }

  /** Close without reuse (no event reaches the owner once it is detached). */
  drop(): void {
    this.spoiled = true;
    this.owner = undefined;
    this.pool.forget(this);
    this.socket.destroy();
  }
}

export interface UpstreamOptions {
  address: string;
  port: number;
  maxIdle: number;
  idleTimeout: number;
  /** 0 = unlimited. */
  maxRequests: number;
  /** TLS to the server (its connections count as connected once the handshake is done). */
  tls?: tls.ConnectionOptions;
  /** The proxy's clock and timers (the idle timeout). */
  clock: Clock;
  timers: Timers;
}

export class UpstreamPool {
  /** Oldest first (released in clock order); `take` reuses the newest. */
  private readonly idle: UpstreamConn[] = [];
  private closedForGood = false;
  private expiry: TimerHandle | undefined;
  /** Connections opened so far (stats and tests). */
  opened = 0;
  reused = 0;

  constructor(public opts: UpstreamOptions) {}

  get idleCount(): number {
    return this.idle.length;
  }

  /** A connection for `owner`: a warm idle one when allowed, else a new one (connecting; the owner hears `connect`). */
  take(owner: UpstreamOwner, reuse: boolean, connectTimeout: number): UpstreamConn {
    if (reuse) {
      const now = this.opts.clock.now();
      while (this.idle.length > 0) {
        const c = this.idle.pop() as UpstreamConn;
        const s = c.socket;
        if (
          c.spoiled ||
          s.destroyed ||
          s.readableEnded ||
          !s.writable ||
          now - c.idleSince >= this.opts.idleTimeout
        ) {
          c.drop();
          continue;
        }
        c.owner = owner;
        c.requests++;
        this.reused++;
        return c;
      }
    }
    const o = this.opts;
    const socket = o.tls
      ? tls.connect({
          ...o.tls,
          host: o.address,
          port: o.port,
          allowHalfOpen: true,
          noDelay: true,
        } as tls.ConnectionOptions)
      : undefined;
    let c: UpstreamConn;
    if (socket) c = new UpstreamConn(socket, this);
    else {
      // onread's callbacks reach the connection, created right after the socket, through `read`
      let conn: UpstreamConn | undefined;
      const plain = net.connect({
        host: o.address,
        port: o.port,
        allowHalfOpen: true,
        noDelay: true,
        onread: {
          buffer: () => (conn === undefined ? firstReadBuffer() : conn.reads.next()), // asked once inside connect()
          callback: (n: number, b: Uint8Array) => (conn as UpstreamConn).read(n, b as Buffer),
        },
      });
      conn = new UpstreamConn(plain, this, true);
      c = conn;
    }
    c.idle(connectTimeout);
    c.owner = owner;
    c.requests = 1;
    this.opened++;
    return c;
  }

  /** Give back a connection after a complete response that allows reuse; closes it when it may not be kept. */
  release(c: UpstreamConn): void {
    c.owner = undefined;
    const o = this.opts;
    if (
      this.closedForGood ||
      c.spoiled ||
      c.closed ||
      o.maxIdle === 0 ||
      this.idle.length >= o.maxIdle ||
      (o.maxRequests > 0 && c.requests >= o.maxRequests)
    ) {
      c.drop();
      return;
    }
    c.idleSince = o.clock.now();
    c.socket.resume(); // it may have been paused by backpressure: an idle socket must notice the server closing
    this.idle.push(c);
    if (this.expiry === undefined) this.expiry = o.timers.setTimeout(this.expire, o.idleTimeout);
  }

  /** Closes the connections idle for `idleTimeout`, then waits for the oldest remaining one. */
  private readonly expire = (): void => {
    this.expiry = undefined;
    const o = this.opts;
    const now = o.clock.now();
    while (this.idle.length > 0 && now - (this.idle[0] as UpstreamConn).idleSince >= o.idleTimeout)
      (this.idle.shift() as UpstreamConn).drop();
    const oldest = this.idle[0];
    if (oldest)
      this.expiry = o.timers.setTimeout(this.expire, Math.max(1, oldest.idleSince + o.idleTimeout - now));
  };

  forget(c: UpstreamConn): void {
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Close idle connections; with `forGood`, also every connection released from now on. */
  close(forGood = true): void {
    if (forGood) this.closedForGood = true;
    if (this.expiry !== undefined) this.opts.timers.clearTimeout(this.expiry);
    this.expiry = undefined;
    for (const c of this.idle.splice(0)) c.drop();
  }
}
