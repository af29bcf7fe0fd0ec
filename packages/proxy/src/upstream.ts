/**
 * Keep-alive connections to one server. A connection is handed back (`release`) only after a complete
 * response that allowed reuse; idle ones expire after `idleTimeout`, at most `maxIdle` are kept (newest
 * reused first, so the oldest age out), and a connection that served `maxRequests` is closed. A server that
 * closes an idle connection is noticed (its FIN or error) and the connection dropped; `take` also refuses
 * one whose read side already ended. Non-idempotent requests never ride a reused connection: the server may
 * close it at the very moment the request is sent, and such a request cannot be retried (HAProxy
 * `http-reuse safe` has the same concern).
 *
 * Each connection is the handler of its `Conn` (conn.ts) and forwards to its current `owner`, so a request costs
 * no closure. Nor a timer: the inactivity timeout is set when it connects and again only when its value
 * changes, and the idle timeout is one timer per pool, armed for the oldest idle connection (or a whole idle
 * timeout ahead when none is idle) from the first release until the pool closes.
 */
import type tls from "node:tls";
import type { Clock, TimerHandle, Timers } from "@lbkit/core";
import type { Conn, ConnHandler } from "./conn.js";
import { dial } from "./dial.js";
import type { ConnEnv } from "./handle-conn.js";

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

export class UpstreamConn implements ConnHandler {
  owner: UpstreamOwner | undefined;
  requests = 0;
  closed = false;
  /** The server sent something while no request was in flight, or ended: never reuse. */
  spoiled = false;
  /** When it was last released to the pool (clock ms). */
  idleSince = 0;

  constructor(
    readonly conn: Conn,
    readonly pool: UpstreamPool,
  ) {
    conn.handler = this;
    conn.resume(); // a connection being made starts reading once it is connected
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  connConnect(): void {
    this.owner?.onUpstreamConnect(this);
  }

  connData(_c: Conn, d: Buffer): void {
    if (this.owner) this.owner.onUpstreamData(this, d);
    else this.drop(); // bytes while idle: the server is out of step
  }

  connEnd(): void {
    this.spoiled = true;
    if (this.owner) this.owner.onUpstreamEnd(this);
    else this.drop();
  }

  connClose(): void {
    this.closed = true;
    this.spoiled = true;
    this.pool.forget(this);
    this.owner?.onUpstreamClose(this);
  }

  connTimeout(): void {
    if (this.owner) this.owner.onUpstreamTimeout(this);
    else this.drop(); // idle for its whole inactivity timeout (the pool's idle timeout usually ends it first)
  }

  connDrain(): void {
    this.owner?.onUpstreamDrain(this);
  }

  connFailure(_c: Conn, e: unknown): void {
    const owner = this.owner;
    this.drop();
    owner?.onUpstreamFailure(e);
  }

  /** Arms the inactivity timeout (an unchanged value costs nothing). */
  idle(ms: number): void {
    this.conn.idle(ms);
  }

  /** Close without reuse (no event reaches the owner once it is detached). */
  drop(): void {
    this.spoiled = true;
    this.owner = undefined;
    this.pool.forget(this);
    this.conn.destroy();
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
  /** Lean connections (handle-conn.ts), or undefined for net.Socket. */
  env: ConnEnv | undefined;
}

/** The keep-alive pool of server `id` of a backend (kept in its `attachments`), made on first use. */
export function serverPool(
  attachments: Map<string, { close(): void }>,
  id: string,
  server: { address: string; port: number; tls?: tls.ConnectionOptions | undefined },
  keepAlive: { maxIdle: number; idleTimeout: number; maxRequests: number },
  core: { clock: Clock; timers: Timers; env: ConnEnv | undefined; httpEnv?: ConnEnv | undefined },
): UpstreamPool {
  let pool = attachments.get(id) as UpstreamPool | undefined;
  if (!pool) {
    pool = new UpstreamPool({
      address: server.address,
      port: server.port,
      ...keepAlive,
      ...(server.tls ? { tls: server.tls } : {}),
      clock: core.clock,
      timers: core.timers,
      env: "httpEnv" in core ? core.httpEnv : core.env,
    });
    attachments.set(id, pool);
  }
  return pool;
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
        const s = c.conn;
        if (
          c.spoiled ||
          s.destroyed ||
          s.readEnded ||
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
    const c = new UpstreamConn(dial(this.opts, this.opts.env), this);
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
    c.conn.resume(); // it may have been paused by backpressure: an idle socket must notice the server closing
    this.idle.push(c);
    if (this.expiry === undefined) this.expiry = o.timers.setTimeout(this.expire, o.idleTimeout);
  }

  /**
   * Closes the connections idle for `idleTimeout`, then waits for the oldest remaining one, or a whole
   * `idleTimeout` when none is idle. Once armed by the first release, the timer runs until `close`: were it to stop
   * whenever the pool emptied, the next release after an idle spell would arm it again from a branch that busy
   * traffic never takes, and V8 deoptimises the response path around it (7–11 ms to recompile, in the
   * first second of returning load).
   */
  private readonly expire = (): void => {
    const o = this.opts;
    const now = o.clock.now();
    while (this.idle.length > 0 && now - (this.idle[0] as UpstreamConn).idleSince >= o.idleTimeout)
      (this.idle.shift() as UpstreamConn).drop();
    const oldest = this.idle[0];
    const wait = oldest ? Math.max(1, oldest.idleSince + o.idleTimeout - now) : o.idleTimeout;
    this.expiry = o.timers.setTimeout(this.expire, wait);
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
