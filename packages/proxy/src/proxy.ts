/**
 * The Proxy: frontends (listeners + rules) and backends (pools + checks + queues) built from one validated
 * configuration, started and stopped as a unit, and changed at run time without dropping connections.
 * Over 350 lines: the accept path and the whole runtime API (servers, rules, backends, certificates, sessions) sit on
 * the one class an operator drives; the work each method does lives in the backend, config and shell modules.
 */
import net from "node:net";
import type tls from "node:tls";
import { emitError, showValue as show, systemTime, type Time } from "@lbkit/core";
import type { ChangeEvent } from "@lbkit/healthcheck";
import { EventEmitter } from "eventemitter3";
import { Backend } from "./backend.js";
import { batch } from "./batch-reads.js";
import {
  type BackendOptions,
  checkReferences,
  type FrontendOptions,
  int,
  type NormalBackend,
  type NormalFrontend,
  normaliseBackend,
  normaliseFrontend,
  type ServerOptions,
} from "./config.js";
import type { Conn } from "./conn.js";
import { Deadlines } from "./deadlines.js";
import { adopt, connEnv } from "./dial.js";
import { ProxyConfigError, ProxyError } from "./errors.js";
import { serveH2 } from "./h2/session.js";
import { leanAccept } from "./handle-conn.js";
import { TcpSession } from "./l4.js";
import { HttpConnection } from "./l7.js";
import { acceptProxyHeader, logHeaderFailure } from "./proxy-protocol/accept.js";
import { type ClientPeer, socketPeer } from "./proxy-protocol/peer.js";
import { type RouteRule, type Router, routes } from "./route.js";
import type { FrontendRuntime, ProxyCore, Tracked, TransactionLog } from "./shell.js";
import { statsAnswer } from "./stats/option.js";
import { ProxyStats } from "./stats/stats.js";
import { type TlsCertificate, TlsTerminator } from "./tls/terminator.js";
import { TrackedList } from "./tracked-list.js";
import { TurnClock } from "./turn-clock.js";

export interface ProxyOptions {
  frontends: readonly FrontendOptions[];
  backends: readonly BackendOptions[];
  /** Graceful stop: how long in-flight requests get to finish before they are cut (termination K). Default 10000. */
  grace?: number;
  /** Injected clock and timers (default `systemTime`; tests pass core's `FakeTime`). */
  time?: Time;
}

export interface ProxyChangeEvent extends ChangeEvent {
  backend: string;
}

export interface ProxyEvents {
  /** One per HTTP transaction (HAProxy httplog), emitted when it ends. */
  request: (log: TransactionLog) => void;
  /** One per TCP session (HAProxy tcplog), emitted when it ends. */
  session: (log: TransactionLog) => void;
  /** A server's health state changed (from its active or passive checks). */
  change: (e: ProxyChangeEvent) => void;
  error: (err: Error) => void;
}

const OPTION_KEYS = ["frontends", "backends", "grace", "time"];

class Frontend implements FrontendRuntime {
  router: Router;
  servers: net.Server[] = [];
  /** Connections being served, and those accepted beyond `maxconn` waiting (unread) for a slot. */
  active = 0;
  readonly waiting: (Conn | net.Socket)[] = [];
  /** Connections served now, the most at once, and served in all (stats). */
  sessions = { cur: 0, max: 0, total: 0 };
  /** TLS termination (its certificates can be replaced at run time). */
  readonly tls: TlsTerminator | undefined;
  constructor(public cfg: NormalFrontend) {
    this.tls = cfg.tls ? new TlsTerminator(`frontend ${show(cfg.id)} tls`, cfg.tls) : undefined;
    try {
      this.router = routes(cfg.rules, cfg.defaultBackend);
    } catch (e) {
      if (e instanceof ProxyConfigError)
        throw new ProxyConfigError(`frontend ${show(cfg.id)} ${e.option}`, e.value, e.fix);
      throw e;
    }
  }
}

export class ReverseProxy extends EventEmitter<ProxyEvents> {
  private readonly frontends = new Map<string, Frontend>();
  private readonly backends = new Map<string, Backend>();
  private readonly tracked = new TrackedList<Tracked>();
  private readonly core: ProxyCore;
  private readonly grace: number;
  private statsCounters: ProxyStats | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private isRunning = false;

  constructor(options: ProxyOptions) {
    super();
    if (typeof options !== "object" || options === null)
      throw new ProxyConfigError("options", options, "must be { frontends, backends }");
    for (const k of Object.keys(options))
      if (!OPTION_KEYS.includes(k))
        throw new ProxyConfigError(k, k, `is not a proxy option (known: ${OPTION_KEYS.join(", ")})`);
    if (!Array.isArray(options.frontends))
      throw new ProxyConfigError("frontends", options.frontends, "must be an array of frontends");
    if (!Array.isArray(options.backends))
      throw new ProxyConfigError("backends", options.backends, "must be an array of backends");
    const time = options.time ?? systemTime;
    this.grace = int("grace", options.grace, 10_000, 0, 86_400_000);
    const normalBackends = new Map<string, NormalBackend>();
    options.backends.forEach((b, i) => {
      const n = normaliseBackend(i, b);
      if (normalBackends.has(n.id))
        throw new ProxyConfigError(`backends[${i}].id`, n.id, "is a duplicate backend id");
      normalBackends.set(n.id, n);
    });
    const normalFrontends = options.frontends.map((f, i) => normaliseFrontend(i, f));
    const fes = normalFrontends.map((f) => new Frontend(f));
    checkReferences(
      normalFrontends,
      normalBackends,
      (f) => (fes.find((x) => x.cfg === f) as Frontend).router.backends,
    );
    for (const fe of fes) {
      if (this.frontends.has(fe.cfg.id))
        throw new ProxyConfigError("frontends.id", fe.cfg.id, "is a duplicate frontend id");
      this.frontends.set(fe.cfg.id, fe);
    }
    // the shells' clock is read once per read callback of a lean connection (turn-clock.ts)
    const clock = new TurnClock(time);
    const deadlines = new Deadlines(clock, time);
    const env = connEnv(clock, deadlines);
    const batched = env === undefined ? undefined : batch();
    this.core = {
      clock,
      timers: time,
      deadlines,
      env,
      httpEnv: batched === undefined ? env : { ...env!, batch: batched },
      backend: (id) => this.backends.get(id),
      track: (t) => this.tracked.add(t),
      untrack: (t) => this.tracked.delete(t),
      log: (kind, entry) => this.emit(kind, entry),
      wantsLog: (kind) => this.listenerCount(kind) > 0,
      error: (err) => this.reportError(err),
      statsPage: (fe, req, close) => {
        const opt = fe.cfg.stats;
        if (!opt) return undefined;
        return statsAnswer(opt, req, close, () => {
          this.statsCounters ??= new ProxyStats(this, { clock: time });
          return this.statsCounters.snapshot();
        });
      },
    };
    for (const n of normalBackends.values()) this.backends.set(n.id, this.makeBackend(n));
    // counting starts with the proxy when a frontend serves the stats page
    if (normalFrontends.some((f) => f.stats)) this.statsCounters = new ProxyStats(this, { clock: time });
  }

  private makeBackend(n: NormalBackend): Backend {
    const be = new Backend(n, this.core.clock, this.core.timers);
    be.checker.on("change", (e) => this.emit("change", { ...e, backend: n.id }));
    return be;
  }

  private reportError(err: Error): void {
    emitError(this, err);
  }

  /** Listening addresses once started, per frontend id (port 0 binds resolve to the real port). */
  addresses(frontend?: string): net.AddressInfo[] {
    const out: net.AddressInfo[] = [];
    for (const fe of this.frontends.values())
      if (frontend === undefined || fe.cfg.id === frontend)
        for (const s of fe.servers) {
          const a = s.address();
          if (a && typeof a === "object") out.push(a);
        }
    return out;
  }

  /** Listening and serving (between a successful start() and stop()): what a VRRP tracker can watch. */
  get running(): boolean {
    return this.isRunning;
  }

  /** Connections being served now (L7 connections and L4 sessions). */
  get connections(): number {
    return this.tracked.size;
  }

  /** Connections one frontend serves now (0 for an unknown id); no allocation (the access log reads it per line). */
  frontendConnections(id: string): number {
    return this.frontends.get(id)?.sessions.cur ?? 0;
  }

  /** Frontend ids, mode, limit and connection counts (for stats and the admin API). */
  frontendInfo(): {
    id: string;
    mode: "http" | "tcp";
    maxconn: number;
    sessions: Readonly<Frontend["sessions"]>;
  }[] {
    return [...this.frontends.values()].map((fe) => ({
      id: fe.cfg.id,
      mode: fe.cfg.mode,
      maxconn: fe.cfg.maxconn,
      sessions: fe.sessions,
    }));
  }

  /** The counters behind the frontends' stats pages (created with the proxy when a frontend has `stats`). */
  get stats(): ProxyStats | undefined {
    return this.statsCounters;
  }

  /** Backend ids, in declaration order. */
  backendIds(): string[] {
    return [...this.backends.keys()];
  }

  backend(id: string): Backend {
    const be = this.backends.get(id);
    if (!be)
      throw new ProxyConfigError(
        "backend",
        id,
        `does not exist (backends: ${[...this.backends.keys()].join(", ")})`,
      );
    return be;
  }

  start(): Promise<void> {
    if (this.isRunning) return Promise.resolve();
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.stopping) await this.stopping;
    const opened: net.Server[] = [];
    try {
      for (const fe of this.frontends.values()) {
        for (const b of fe.cfg.binds) {
          const server = net.createServer({
            allowHalfOpen: true,
            pauseOnConnect: fe.cfg.mode === "tcp",
            noDelay: true,
          });
          // before listen(): a cluster worker may be handed a connection in the same tick as its listen reply
          server.on("connection", (socket: net.Socket) => this.accept(fe, socket));
          // plain frontends accept lean connections (handle-conn.ts) from the moment the server listens; TLS and
          // PROXY headers need a net.Socket. Lean connections are not counted by the server: close() does not wait
          // for them (stop() drains and kills them through `tracked`).
          const env = fe.cfg.mode === "http" ? this.core.httpEnv : this.core.env;
          if (env !== undefined && !fe.tls && !fe.cfg.acceptProxy)
            server.once("listening", () => leanAccept(server, env, (c) => this.accept(fe, c)));
          await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen({ port: b.port, ...(b.host ? { host: b.host } : {}) }, () => {
              server.off("error", reject);
              resolve();
            });
          });
          server.on("error", (e) =>
            this.reportError(new ProxyError(`listener ${fe.cfg.id} failed: ${e.message}`, "ERR_LISTEN")),
          );
          opened.push(server);
          fe.servers.push(server);
        }
      }
    } catch (e) {
      for (const s of opened) s.close();
      for (const fe of this.frontends.values()) fe.servers = [];
      const err = e as NodeJS.ErrnoException;
      throw new ProxyError(
        `proxy: cannot listen: ${err.message} (is the address in use or not local?)`,
        err.code ?? "ERR_LISTEN",
      );
    }
    for (const be of this.backends.values()) be.start();
    this.isRunning = true;
  }

  /** HAProxy frontend `maxconn`: connections beyond it wait, unread, until one ends (first come, first served). */
  private accept(fe: Frontend, c: Conn | net.Socket): void {
    const max = fe.cfg.maxconn;
    if (max > 0) {
      if (fe.active >= max) {
        c.pause();
        if (c instanceof net.Socket) c.on("error", () => {});
        fe.waiting.push(c);
        whenClosed(c, () => {
          const i = fe.waiting.indexOf(c);
          if (i >= 0) fe.waiting.splice(i, 1);
        });
        return;
      }
      fe.active++;
      whenClosed(c, () => {
        fe.active--;
        const next = fe.waiting.shift();
        if (next) this.accept(fe, next);
      });
    }
    this.serve(fe, c);
  }

  private serve(fe: Frontend, c: Conn | net.Socket): void {
    const n = fe.sessions;
    n.total++;
    if (++n.cur > n.max) n.max = n.cur;
    whenClosed(c, () => n.cur--);
    if (!(c instanceof net.Socket)) {
      this.open(fe, c);
      return;
    }
    const socket = c;
    const ap = fe.cfg.acceptProxy;
    if (!ap) {
      this.secure(fe, socket, undefined, undefined);
      return;
    }
    // until its PROXY header is read, a connection is tracked so that stop() can cut it
    const pending: Tracked = {
      trackPos: -1,
      drain: () => socket.destroy(),
      kill: () => socket.destroy(),
      holds: () => false,
    };
    this.tracked.add(pending);
    acceptProxyHeader(socket, ap, (r, rest) => {
      this.tracked.delete(pending);
      if ("cause" in r) logHeaderFailure(this.core, fe.cfg, socket, r);
      else this.secure(fe, socket, r, rest);
    });
  }

  /** TLS termination when the frontend has it (handshake first), then the session. */
  private secure(
    fe: Frontend,
    socket: net.Socket,
    peer: ClientPeer | undefined,
    rest: Buffer | undefined,
  ): void {
    if (!fe.tls) {
      if (rest && rest.length > 0) socket.unshift(rest);
      this.open(fe, socket, peer);
      return;
    }
    const pending: Tracked = {
      trackPos: -1,
      drain: () => socket.destroy(),
      kill: () => socket.destroy(),
      holds: () => false,
    };
    this.tracked.add(pending);
    fe.tls.wrap(socket, rest, this.core.timers, (r) => {
      this.tracked.delete(pending);
      if ("cause" in r) logHeaderFailure(this.core, fe.cfg, socket, r);
      else this.open(fe, r, peer);
    });
  }

  /** Starts the connection's session; `peer` is the client an accepted PROXY header named. */
  private open(fe: Frontend, c: Conn | net.Socket, peer?: ClientPeer): void {
    try {
      if (c instanceof net.Socket && (c as tls.TLSSocket).alpnProtocol === "h2") {
        serveH2(this.core, fe, c as tls.TLSSocket, peer ?? socketPeer(c));
        return;
      }
      const conn = c instanceof net.Socket ? adopt(c) : c;
      if (fe.cfg.mode === "tcp") new TcpSession(this.core, fe, conn, peer);
      else {
        new HttpConnection(this.core, fe, conn, peer);
        conn.resume(); // lean connections start paused, as does one that waited for a maxconn slot
      }
    } catch (e) {
      // a bug or a throwing user predicate must not take the proxy down: this connection goes, the error is told
      c.destroy();
      this.reportError(
        new ProxyError(
          `proxy: internal error accepting on ${fe.cfg.id}: ${(e as Error)?.message ?? e}`,
          "ERR_INTERNAL",
          {
            cause: e,
          },
        ),
      );
    }
  }

  /**
   * Graceful stop: stop accepting, let in-flight requests finish (idle keep-alive connections close at once,
   * busy ones after their current response) for up to `grace` ms, then cut what remains.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.starting) await this.starting.catch(() => {});
      const closed: Promise<void>[] = [];
      for (const fe of this.frontends.values()) {
        for (const s of fe.servers) closed.push(new Promise<void>((r) => s.close(() => r())));
        fe.servers = [];
      }
      for (const t of this.tracked.snapshot()) t.drain();
      await this.waitIdle(this.grace);
      for (const t of this.tracked.snapshot()) t.kill();
      for (const fe of this.frontends.values()) for (const w of fe.waiting.splice(0)) w.destroy();
      await Promise.all(closed);
      for (const be of this.backends.values()) {
        await be.stop();
        for (const a of be.attachments.values()) a.close();
        be.attachments.clear(); // a later start() opens fresh upstream pools
      }
      this.isRunning = false;
    })().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private waitIdle(ms: number): Promise<void> {
    if (this.tracked.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const deadline = this.core.clock.now() + ms;
      const poll = () => {
        if (this.tracked.size === 0 || this.core.clock.now() >= deadline) resolve();
        else setTimeout(poll, 10);
      };
      poll();
    });
  }

  // ---- runtime changes (no connection is dropped) ----

  addServer(backend: string, server: ServerOptions): void {
    this.backend(backend).addServer(server);
  }

  removeServer(backend: string, id: string): void {
    this.backend(backend).removeServer(id);
  }

  setServer(
    backend: string,
    id: string,
    change: {
      weight?: number;
      maxconn?: number;
      maxqueue?: number;
      state?: "up" | "down" | "drain" | "maint";
    },
  ): void {
    this.backend(backend).setServer(id, change);
  }

  /** HAProxy `shutdown sessions server`: kills the connections whose request or session is on that server now. */
  shutdownSessions(backend: string, id: string): number {
    const be = this.backend(backend);
    if (!be.pool.get(id)) throw new ProxyConfigError(`backend ${backend} server`, id, "does not exist");
    let n = 0;
    for (const t of this.tracked.snapshot())
      if (t.holds(backend, id)) {
        t.kill();
        n++;
      }
    return n;
  }

  /**
   * Replace a TLS frontend's certificates (a renewal): handshakes from now on use the new ones; connections
   * already established are not touched. Bad certificates throw and leave the current ones in place.
   */
  setCertificates(frontend: string, certificates: readonly TlsCertificate[]): void {
    const fe = this.frontends.get(frontend);
    if (!fe?.tls)
      throw new ProxyConfigError(
        "frontend",
        frontend,
        "is not a TLS frontend (give it `tls: { certificates }`)",
      );
    fe.tls.setCertificates(certificates);
  }

  /** Replace a frontend's rules (and default backend); requests already routed keep their backend. */
  setRules(frontend: string, rules: readonly RouteRule[], defaultBackend?: string): void {
    const fe = this.frontends.get(frontend);
    if (!fe)
      throw new ProxyConfigError(
        "frontend",
        frontend,
        `does not exist (frontends: ${[...this.frontends.keys()].join(", ")})`,
      );
    const router = routes(rules, defaultBackend ?? fe.cfg.defaultBackend);
    const normal = new Map([...this.backends].map(([id, be]) => [id, be.cfg]));
    checkReferences([fe.cfg], normal, () => router.backends);
    fe.router = router;
  }

  /** Add a backend, or replace one with the same id: new requests use the new one; requests in flight finish on the old one. */
  setBackend(options: BackendOptions): void {
    const n = normaliseBackend(0, options);
    const old = this.backends.get(n.id);
    if (old && old.cfg.mode !== n.mode)
      throw new ProxyConfigError(
        `backend ${show(n.id)} mode`,
        n.mode,
        `differs from the running backend's ${old.cfg.mode}`,
      );
    const be = this.makeBackend(n);
    this.backends.set(n.id, be);
    if (this.isRunning) be.start();
    if (old) {
      // its checks stop; idle upstream connections close now, busy ones when their response ends; waiters of
      // the old queue are still served by the old backend's servers as they free up
      old.stop().catch((e: Error) => this.reportError(e));
      for (const a of old.attachments.values()) a.close();
    }
  }
}

/** Runs `fn` once when the connection closes. */
function whenClosed(c: Conn | net.Socket, fn: () => void): void {
  if (c instanceof net.Socket) c.once("close", fn);
  else c.onClosed(fn);
}
