/**
 * A backend at run time: a balancer Pool over its servers, the active health checks bound to it, passive
 * health fed by real traffic, and the FIFO queue of requests waiting for a server below its `maxconn`.
 * No sockets here: the L4/L7 shells ask for a lease, and report each request's outcome once to `finish`.
 */
import type tls from "node:tls";
import { type Lease, type PickContext, Pool, type Server } from "@lbkit/balancer";
import type { Clock, RequestOutcome, Timers } from "@lbkit/core";
import { bindPool, HealthChecker, tcpCheck } from "@lbkit/healthcheck";
import type { NormalBackend, ServerOptions } from "./config.js";
import { normaliseServer } from "./config.js";
import { ProxyConfigError } from "./errors.js";
import { PERSIST_COOKIE, Persistence } from "./persist/persistence.js";
import { type Waiter, WaitQueue } from "./queue.js";
import { serverTls } from "./tls/upstream.js";

export interface ServerMeta {
  address: string;
  port: number;
  /** PROXY protocol header to send first on each connection (HAProxy send-proxy / send-proxy-v2). */
  sendProxy?: "v1" | "v2";
  /** node:tls connect options when the server speaks TLS (`ssl`). */
  tls?: tls.ConnectionOptions;
}

/** A request waiting in the queue; the shell's transaction implements it (no closure per request). */
export interface QueueClient {
  readonly pickContext: PickContext;
  /** A server whose id must not be chosen (redispatch away from it), if any. */
  readonly avoid: string | undefined;
  /** A slot came free: the request now holds `lease`. */
  granted(lease: Lease<ServerMeta>): void;
  /** `timeout queue` expired. */
  expired(): void;
}

export type Acquire = Lease<ServerMeta> | "full" | "none";

export class Backend {
  readonly id: string;
  readonly pool: Pool<ServerMeta>;
  readonly checker: HealthChecker;
  readonly queue: WaitQueue<QueueClient>;
  private unbind: (() => void) | undefined;
  private queueTimer: { at: number; handle: unknown } | undefined;
  /** Per-server resources owned by a shell (upstream connection pools), closed when the server is removed. */
  readonly attachments = new Map<string, { close(): void }>();
  /** Cookie persistence and the stick table, when configured. */
  readonly persistence: Persistence | undefined;

  constructor(
    public cfg: NormalBackend,
    private readonly clock: Clock,
    private readonly timers: Timers,
  ) {
    this.id = cfg.id;
    const persist = cfg.cookie !== undefined || cfg.stick !== undefined;
    this.pool = new Pool<ServerMeta>({
      algorithm: cfg.balance,
      clock,
      ...(persist ? { cookie: PERSIST_COOKIE } : {}),
    });
    this.persistence = persist
      ? new Persistence(cfg.cookie, cfg.stick, (id) => this.pool.get(id)?.cookie)
      : undefined;
    this.checker = new HealthChecker({
      time: {
        now: () => clock.now(),
        setTimeout: (fn, ms) => timers.setTimeout(fn, ms),
        clearTimeout: (h) => timers.clearTimeout(h),
      },
    });
    this.queue = new WaitQueue(cfg.maxqueue, cfg.timeouts.queue);
    for (const s of cfg.servers) this.addServer(s, false);
  }

  start(): void {
    this.unbind ??= bindPool(this.checker, this.pool);
    this.checker.start();
  }

  async stop(): Promise<void> {
    this.unbind?.();
    this.unbind = undefined;
    await this.checker.stop();
    if (this.queueTimer) this.timers.clearTimeout(this.queueTimer.handle);
    this.queueTimer = undefined;
  }

  /** Add a server (runtime: new requests may pick it at once). */
  addServer(s: ServerOptions, validate = true): Server<ServerMeta> {
    if (validate) normaliseServer(`backend ${this.id} server`, s);
    if (this.pool.get(s.id))
      throw new ProxyConfigError(
        `backend ${this.id} server`,
        s.id,
        "already exists (remove it first, or use setServer)",
      );
    const ssl =
      s.ssl === undefined
        ? undefined
        : serverTls(`backend ${this.id} server ${s.id} ssl`, s.ssl, s.address, this.cfg.mode);
    const server = this.pool.add({
      id: s.id,
      address: s.address,
      port: s.port,
      weight: s.weight ?? 1,
      maxConn: s.maxconn ?? 0,
      backup: s.backup ?? false,
      state: s.state ?? "up",
      ...(s.cookie !== undefined ? { cookie: s.cookie } : {}),
      meta: {
        address: s.address,
        port: s.port,
        ...(s.sendProxy ? { sendProxy: s.sendProxy } : {}),
        ...(ssl ? { tls: ssl.connect } : {}),
      },
    });
    if (s.check) {
      const hc = this.cfg.healthCheck;
      const { check: makeCheck, ...targetDefaults } = hc;
      const own = typeof s.check === "object" ? s.check : {};
      const check =
        own.check ??
        (makeCheck
          ? makeCheck({ id: s.id, address: s.address, port: s.port, ...(ssl ? { tls: ssl.check } : {}) })
          : tcpCheck({ host: s.address, port: s.port, ...(ssl ? { tls: ssl.check } : {}) }));
      try {
        this.checker.add({
          ...targetDefaults,
          ...(this.cfg.passive ? { passive: this.cfg.passive } : {}),
          ...own,
          id: s.id,
          check,
        });
      } catch (e) {
        this.pool.remove(s.id);
        throw new ProxyConfigError(
          `backend ${this.id} server ${s.id} check`,
          (e as { value?: unknown }).value,
          (e as Error).message,
        );
      }
      if (this.unbind) {
        const st = this.checker.status(s.id);
        if (st) this.pool.setState(s.id, st.state);
      }
    }
    this.serveQueue();
    return server;
  }

  /** Remove a server: no new request picks it; requests in flight on it finish. */
  removeServer(id: string): void {
    if (!this.pool.get(id))
      throw new ProxyConfigError(
        `backend ${this.id} server`,
        id,
        `does not exist (servers: ${this.pool.servers.map((s) => s.id).join(", ")})`,
      );
    this.pool.remove(id);
    this.checker.remove(id);
    this.attachments.get(id)?.close();
    this.attachments.delete(id);
  }

  /** Change a server's weight, maxconn or state at run time. */
  setServer(
    id: string,
    change: { weight?: number; maxconn?: number; state?: "up" | "down" | "drain" | "maint" },
  ): void {
    if (!this.pool.get(id)) throw new ProxyConfigError(`backend ${this.id} server`, id, "does not exist");
    try {
      if (change.weight !== undefined) this.pool.setWeight(id, change.weight);
      if (change.maxconn !== undefined) this.pool.setMaxConn(id, change.maxconn);
      if (change.state !== undefined) this.pool.setState(id, change.state);
    } catch (e) {
      throw new ProxyConfigError(`backend ${this.id} server ${id}`, change, (e as Error).message);
    }
    this.serveQueue();
  }

  /** A server below its maxconn for this request, or "full" (queue it) or "none" (503). */
  acquire(ctx: PickContext, avoid?: string): Acquire {
    // the common case without the candidate generator: the algorithm's first choice has room
    const first = this.pool.pick(ctx);
    if (!first.ok) return "none";
    const s0 = first.server;
    if (s0.id !== avoid && (s0.maxConn === 0 || s0.inFlight < s0.maxConn)) return this.pool.acquire(s0);
    let any = false;
    let fallback: Server<ServerMeta> | undefined;
    for (const s of this.pool.candidates(ctx)) {
      if (s.id === avoid) {
        fallback ??= s;
        continue;
      }
      any = true;
      if (s.maxConn === 0 || s.inFlight < s.maxConn) return this.pool.acquire(s);
    }
    // redispatch wanted another server but there is none: the same one is better than nothing
    if (!any && fallback) {
      if (fallback.maxConn === 0 || fallback.inFlight < fallback.maxConn) return this.pool.acquire(fallback);
      return "full";
    }
    return any ? "full" : "none";
  }

  /** Queue `client` until a slot frees up; undefined when the queue is full (maxqueue). */
  enqueue(client: QueueClient): Waiter<QueueClient> | undefined {
    const w = this.queue.push(client, this.clock.now());
    if (w) this.armQueue();
    return w;
  }

  cancelQueued(w: Waiter<QueueClient>): void {
    this.queue.cancel(w);
  }

  /** Ends a request on its server: the lease and passive health each hear the outcome once; the queue moves. */
  finish(lease: Lease<ServerMeta>, outcome: RequestOutcome): void {
    lease.release(outcome);
    // a client that went away says nothing about the server
    if (outcome.code !== "client-abort") this.checker.observe(lease.server.id, outcome);
    if (this.queue.length > 0) this.serveQueue();
  }

  /** Hand free slots to the oldest waiters. */
  serveQueue(): void {
    while (this.queue.length > 0) {
      const head = this.queue.shift();
      if (!head) break;
      const got = this.acquire(head.item.pickContext, head.item.avoid);
      if (typeof got === "string") {
        if (got === "none") {
          head.item.expired(); // nothing can ever serve it now: the shell answers 503
          continue;
        }
        // put it back at the front: FIFO order is kept by re-inserting and rotating (rare path)
        this.requeueFront(head);
        break;
      }
      head.item.granted(got);
    }
    this.armQueue();
  }

  private requeueFront(w: Waiter<QueueClient>): void {
    const rest: Waiter<QueueClient>[] = [];
    for (let x = this.queue.shift(); x; x = this.queue.shift()) rest.push(x);
    const max = this.queue.maxQueue;
    this.queue.maxQueue = 0;
    for (const x of [w, ...rest]) {
      const again = this.queue.push(x.item, 0);
      if (again) (again as { deadline: number }).deadline = x.deadline;
    }
    this.queue.maxQueue = max;
  }

  private armQueue(): void {
    const next = this.queue.nextDeadline();
    if (next === undefined) {
      if (this.queueTimer) this.timers.clearTimeout(this.queueTimer.handle);
      this.queueTimer = undefined;
      return;
    }
    if (this.queueTimer && this.queueTimer.at <= next) return;
    if (this.queueTimer) this.timers.clearTimeout(this.queueTimer.handle);
    const delay = Math.max(0, next - this.clock.now());
    this.queueTimer = { at: next, handle: this.timers.setTimeout(() => this.onQueueTimer(), delay) };
  }

  private onQueueTimer(): void {
    this.queueTimer = undefined;
    for (const w of this.queue.expire(this.clock.now())) w.item.expired();
    this.armQueue();
  }
}
