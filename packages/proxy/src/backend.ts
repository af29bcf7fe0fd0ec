/**
 * A backend at run time: a balancer Pool over its servers, the active health checks bound to it, passive
 * health fed by real traffic, and the queues of requests waiting for a server below its `maxconn`: one per
 * server for requests bound to it, one for the backend (the decisions are placement.ts's). No sockets here: the
 * L4/L7 shells `place` each request, and report each request's outcome once to `finish`.
 * Over 350 lines because the queues' bookkeeping (placing, serving a freed slot, redistributing a lost server's
 * queue, the one timer) acts on the pool at each step; the decisions themselves are pure in placement.ts.
 */
import type tls from "node:tls";
import { type Lease, type PickContext, Pool, type Server } from "@lbkit/balancer";
import type { Clock, RequestOutcome, ServerState, Timers } from "@lbkit/core";
import { bindPool, HealthChecker, tcpCheck } from "@lbkit/healthcheck";
import type { NormalBackend, ServerOptions } from "./config.js";
import { normaliseServer } from "./config.js";
import { ProxyConfigError } from "./errors.js";
import { PERSIST_COOKIE, Persistence } from "./persist/persistence.js";
import { bindsServer, nextWaiter, placeBound, whenServerQueueFull } from "./placement.js";
import { type Waiter, WaitQueue } from "./queue.js";
import { roundRobinKind, type TurnAroundFacts } from "./retry.js";
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

/**
 * What `place` did with a request: a lease now, a place in a queue, or a 503: "none" (no usable server),
 * "backend-full" (the backend queue is at its maxqueue), "server-full" (the bound server's queue is at its
 * maxqueue; HAProxy logs SQ).
 */
export type Placed = Lease<ServerMeta> | Waiter<QueueClient> | "none" | "backend-full" | "server-full";

export class Backend {
  readonly id: string;
  readonly pool: Pool<ServerMeta>;
  readonly checker: HealthChecker;
  /** The backend queue: requests not bound to a server, waiting for any server's slot. */
  readonly queue: WaitQueue<QueueClient>;
  private readonly srvQueues = new Map<string, WaitQueue<QueueClient>>();
  /** Server queues holding waiters (finish() looks at the queues only when some wait). */
  private readonly waitingOn = new Set<WaitQueue<QueueClient>>();
  private readonly maxQueueOf = new Map<string, number>();
  /** Servers in maintenance or draining by configuration or command (HAProxy's administrative state). */
  private readonly adminOf = new Map<string, "drain" | "maint">();
  /** Each server's operational state: its checks' verdict, or what was set for an unchecked one. */
  private readonly opOf = new Map<string, ServerState>();
  private readonly byCookie = new Map<string, string>();
  /** The balance algorithm designates one server per request (a hash). */
  private readonly binds: boolean;
  private order = 0;
  private readonly roundRobin: boolean;
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
    this.binds = bindsServer(cfg.balance);
    this.roundRobin = roundRobinKind(cfg.balance);
    for (const s of cfg.servers) this.addServer(s, false);
  }

  /**
   * A server's state as the pool holds it: HAProxy's administrative state (set by configuration or at run time:
   * maint, drain) over its operational one (its checks', or what was set for an unchecked server).
   */
  private effective(id: string): ServerState {
    const admin = this.adminOf.get(id);
    const op = this.opOf.get(id) ?? "up";
    if (admin === "maint") return "maint";
    if (admin === "drain") return op === "up" ? "drain" : op;
    return op;
  }

  /** The checks' verdict on a server: it applies under the server's administrative state. */
  private setOperational(id: string, state: ServerState): void {
    this.opOf.set(id, state);
    this.pool.setState(id, this.effective(id));
  }

  /** What bindPool drives: the pool, with check states going through `setOperational`. */
  private readonly checked = {
    get: (id: string) => this.pool.get(id),
    setState: (id: string, state: ServerState) => this.setOperational(id, state),
    setWeight: (id: string, w: number) => this.pool.setWeight(id, w),
    setMaxConn: (id: string, n: number) => this.pool.setMaxConn(id, n),
  };

  start(): void {
    if (!this.unbind) {
      const unbindPool = bindPool(this.checker, this.checked);
      // after the pool heard it: a server's new state or limits may free or strand waiters
      const onHealth = () => this.serveQueue();
      for (const e of ["change", "weight", "maxConn"] as const) this.checker.on(e, onHealth);
      this.unbind = () => {
        unbindPool();
        for (const e of ["change", "weight", "maxConn"] as const) this.checker.off(e, onHealth);
      };
    }
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
    const initial = s.state ?? "up";
    if (initial === "maint" || initial === "drain") this.adminOf.set(s.id, initial);
    this.opOf.set(s.id, initial === "down" ? "down" : "up");
    const server = this.pool.add({
      id: s.id,
      address: s.address,
      port: s.port,
      weight: s.weight ?? 1,
      maxConn: s.maxconn ?? 0,
      backup: s.backup ?? false,
      state: this.effective(s.id),
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
          // a server configured down starts down and comes up after `rise` checks (HAProxy init-state fully-down)
          ...(initial === "down" ? { initState: "fully-down" as const } : {}),
          ...own,
          id: s.id,
          check,
        });
      } catch (e) {
        this.pool.remove(s.id);
        this.adminOf.delete(s.id);
        this.opOf.delete(s.id);
        throw new ProxyConfigError(
          `backend ${this.id} server ${s.id} check`,
          (e as { value?: unknown }).value,
          (e as Error).message,
        );
      }
      if (this.unbind) {
        const st = this.checker.status(s.id);
        if (st) this.setOperational(s.id, st.state);
      }
    }
    this.maxQueueOf.set(s.id, s.maxqueue ?? 0);
    this.byCookie.set(server.cookie, s.id);
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
    const cookie = this.pool.get(id)?.cookie;
    if (cookie !== undefined && this.byCookie.get(cookie) === id) this.byCookie.delete(cookie);
    this.maxQueueOf.delete(id);
    this.adminOf.delete(id);
    this.opOf.delete(id);
    this.pool.remove(id);
    this.checker.remove(id);
    this.dropServerQueue(id);
    this.attachments.get(id)?.close();
    this.attachments.delete(id);
  }

  /**
   * `maint` and `drain` are administrative (HAProxy `set server state`): they hold whatever the checks say, and
   * `up` ends them (the server is then as its checks say, or up when unchecked). `down` is operational (HAProxy
   * `set server health down`): a checked server's next check result replaces it.
   */
  private setAdmin(id: string, state: "up" | "down" | "drain" | "maint"): void {
    if (state === "maint" || state === "drain") this.adminOf.set(id, state);
    else {
      this.adminOf.delete(id);
      if (state === "down" || !this.checker.status(id)) this.opOf.set(id, state);
    }
    this.pool.setState(id, this.effective(id));
  }

  /** Change a server's weight, maxconn, maxqueue or state at run time. */
  setServer(
    id: string,
    change: {
      weight?: number;
      maxconn?: number;
      maxqueue?: number;
      state?: "up" | "down" | "drain" | "maint";
    },
  ): void {
    if (!this.pool.get(id)) throw new ProxyConfigError(`backend ${this.id} server`, id, "does not exist");
    try {
      if (change.weight !== undefined) this.pool.setWeight(id, change.weight);
      if (change.maxconn !== undefined) this.pool.setMaxConn(id, change.maxconn);
      if (change.maxqueue !== undefined) {
        if (!Number.isInteger(change.maxqueue) || change.maxqueue < 0)
          throw new Error(`maxqueue ${change.maxqueue} must be an integer >= 0 (0: unbounded)`);
        this.maxQueueOf.set(id, change.maxqueue);
        const q = this.srvQueues.get(id);
        if (q) q.maxQueue = change.maxqueue;
      }
      if (change.state !== undefined) this.setAdmin(id, change.state);
    } catch (e) {
      throw new ProxyConfigError(`backend ${this.id} server ${id}`, change, (e as Error).message);
    }
    this.serveQueue();
  }

  /**
   * Where a request goes now (HAProxy's assign_server_and_queue): a lease on a server with room; a place in the
   * queue of the server it is bound to (persistence, stick entry or hash) when that one is at its maxconn; a place
   * in the backend queue when no server has room; "backend-full" / "server-full" when the queue it needs is
   * full; "none" when no server is usable. A waiter hears `granted` or `expired` later.
   */
  place(client: QueueClient): Placed {
    const ctx = client.pickContext;
    let avoid = client.avoid;
    const bound = this.boundServer(ctx, avoid);
    if (bound) {
      const q = this.serverQueue(bound.server.id) as WaitQueue<QueueClient>;
      const s = bound.server;
      const p = placeBound({
        inFlight: s.inFlight,
        maxConn: s.maxConn,
        queued: q.length,
        maxQueue: q.maxQueue,
      });
      if (p === "take") return this.pool.acquire(s);
      if (p === "queue") return this.wait(q, client) ?? "server-full";
      if (whenServerQueueFull(bound.persisted, this.cfg.policy.redispatch) === "refuse") return "server-full";
      avoid = s.id; // redispatch: balanced again, away from the full server
    }
    const got = this.acquire(ctx, avoid);
    if (got !== "full") return got;
    return this.wait(this.queue, client) ?? "backend-full";
  }

  /** The server a request is bound to: its persisted server while up or draining, else a hash's choice. */
  private boundServer(
    ctx: PickContext,
    avoid: string | undefined,
  ): { server: Server<ServerMeta>; persisted: boolean } | undefined {
    const value = this.persistence ? ctx.cookies?.[PERSIST_COOKIE] : undefined;
    if (value !== undefined) {
      const id = this.byCookie.get(value);
      const s = id === undefined ? undefined : this.pool.get(id);
      if (s && s.id !== avoid && (s.state === "up" || s.state === "drain"))
        return { server: s, persisted: true };
    }
    if (!this.binds) return undefined;
    const s = this.pool.choice(ctx);
    return s && s.id !== avoid ? { server: s, persisted: false } : undefined;
  }

  private wait(q: WaitQueue<QueueClient>, client: QueueClient): Waiter<QueueClient> | undefined {
    const w = q.push(client, this.clock.now(), this.order++);
    if (w) {
      if (q !== this.queue) this.waitingOn.add(q);
      this.armQueue();
    }
    return w;
  }

  /**
   * What the retry decision needs to know of this backend and the failed `server` for HAProxy's redispatch and
   * turn-around; `direct`: persistence chose that server for this request.
   */
  turnAround(now: number, error: boolean, reused: boolean, server?: string, direct = false): TurnAroundFacts {
    const state = server === undefined ? undefined : this.pool.get(server)?.state;
    return {
      now,
      connectTimeout: this.cfg.timeouts.connect,
      error,
      reused,
      roundRobin: this.roundRobin,
      activeServers: this.pool.stats().usable,
      direct,
      serverDown: state !== undefined && state !== "up" && state !== "drain",
    };
  }

  /** A server with room for a request not bound to it, or "full" (queue it) or "none" (503). */
  private acquire(ctx: PickContext, avoid?: string): Lease<ServerMeta> | "full" | "none" {
    // the common case without the candidate generator: the algorithm's first choice has room
    const first = this.pool.pick(ctx);
    if (!first.ok) return "none";
    const s0 = first.server;
    if (s0.id !== avoid && this.hasRoom(s0)) return this.pool.acquire(s0);
    let any = false;
    let fallback: Server<ServerMeta> | undefined;
    for (const s of this.pool.candidates(ctx)) {
      if (s.id === avoid) {
        fallback ??= s;
        continue;
      }
      any = true;
      if (this.hasRoom(s)) return this.pool.acquire(s);
    }
    // redispatch wanted another server but there is none: the same one is better than nothing
    if (!any && fallback) return this.hasRoom(fallback) ? this.pool.acquire(fallback) : "full";
    return any ? "full" : "none";
  }

  private hasRoom(s: Server<ServerMeta>): boolean {
    if (s.maxConn === 0) return true;
    if (s.inFlight >= s.maxConn) return false;
    const q = this.waitingOn.size > 0 ? this.srvQueues.get(s.id) : undefined;
    return q === undefined || q.length === 0;
  }

  /** Server `id`'s `maxqueue` (0: unbounded); undefined for an unknown server. */
  serverMaxQueue(id: string): number | undefined {
    return this.maxQueueOf.get(id);
  }

  /** The queue of requests bound to server `id` (HAProxy's server queue); undefined for an unknown server. */
  serverQueue(id: string): WaitQueue<QueueClient> | undefined {
    let q = this.srvQueues.get(id);
    if (!q && this.pool.get(id)) {
      q = new WaitQueue<QueueClient>(this.maxQueueOf.get(id) ?? 0, this.cfg.timeouts.queue);
      this.srvQueues.set(id, q);
    }
    return q;
  }

  cancelQueued(w: Waiter<QueueClient>): void {
    w.queue.cancel(w);
    if (w.queue.length === 0) this.waitingOn.delete(w.queue);
  }

  /** Ends a request on its server: the lease and passive health each hear the outcome once; the queues move. */
  finish(lease: Lease<ServerMeta>, outcome: RequestOutcome): void {
    lease.release(outcome);
    // a client that went away says nothing about the server
    if (outcome.code !== "client-abort") this.checker.observe(lease.server.id, outcome);
    if (this.queue.length > 0 || this.waitingOn.size > 0) {
      const s = this.pool.get(lease.server.id);
      if (s === lease.server) this.serve(s);
    }
  }

  /**
   * After a change of servers, states or limits: every server's free slots go to the oldest waiters; the queue of
   * a server that went down or into maintenance is balanced again when `redispatch` is on (HAProxy's
   * pendconn_redistribute), and waiters nothing can serve any more (no usable server) are answered at once.
   */
  serveQueue(): void {
    if (this.queue.length === 0 && this.waitingOn.size === 0) return;
    for (const s of this.pool.servers) {
      if ((s.state === "down" || s.state === "maint") && this.cfg.policy.redispatch !== 0) {
        const q = this.srvQueues.get(s.id);
        if (q && q.length > 0) this.redistribute(q, s.id);
      } else this.serve(s);
    }
    const st = this.pool.stats();
    if (st.usable + st.usableBackups === 0)
      for (let w = this.queue.shift(); w; w = this.queue.shift()) w.item.expired();
    this.armQueue();
  }

  /**
   * A slot may be free on `s`: it takes the older of its own queue's head and the backend queue's head (the
   * latter only while `s` takes new requests: up with a weight), as HAProxy's process_srv_queue.
   */
  private serve(s: Server<ServerMeta>): void {
    const own = this.srvQueues.get(s.id);
    const shared = s.state === "up" && s.effectiveWeight > 0 ? this.queue : undefined;
    const ownUsable = s.state === "up" || s.state === "drain";
    while (s.maxConn === 0 || s.inFlight < s.maxConn) {
      const a = ownUsable ? own?.peek() : undefined;
      let b = shared?.peek();
      if (b !== undefined && b.item.avoid === s.id) b = undefined;
      const from = nextWaiter(a, b);
      if (from === undefined) break;
      const w = (from === "server" ? own : shared)?.shift() as Waiter<QueueClient>;
      w.item.granted(this.pool.acquire(s));
    }
    if (own && own.length === 0) this.waitingOn.delete(own);
    this.armQueue();
  }

  /** A server went away: its waiters are balanced again when `redispatch` is on, else answered 503. */
  private dropServerQueue(id: string): void {
    const q = this.srvQueues.get(id);
    this.srvQueues.delete(id);
    if (!q) return;
    if (this.cfg.policy.redispatch !== 0) this.redistribute(q, id);
    for (let w = q.shift(); w; w = q.shift()) w.item.expired();
    this.waitingOn.delete(q);
    this.armQueue();
  }

  /** Balance `q`'s waiters again away from server `id`, keeping their order and deadlines. */
  private redistribute(q: WaitQueue<QueueClient>, id: string): void {
    this.waitingOn.delete(q);
    for (let w = q.shift(); w; w = q.shift()) {
      const got = this.acquire(w.item.pickContext, id);
      if (typeof got !== "string") w.item.granted(got);
      else {
        const again = got === "full" ? this.queue.push(w.item, this.clock.now(), w.order) : undefined;
        if (again) (again as { deadline: number }).deadline = w.deadline;
        else w.item.expired();
      }
    }
  }

  /** The single timer: the earliest deadline over the backend queue and the server queues holding waiters. */
  private armQueue(): void {
    let next = this.queue.nextDeadline();
    for (const q of this.waitingOn) {
      const d = q.nextDeadline();
      if (d === undefined) this.waitingOn.delete(q);
      else if (next === undefined || d < next) next = d;
    }
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
    const now = this.clock.now();
    for (const w of this.queue.expire(now)) w.item.expired();
    for (const q of [...this.waitingOn]) for (const w of q.expire(now)) w.item.expired();
    this.armQueue();
  }
}
