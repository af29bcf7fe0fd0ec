/**
 * AccessLog: the proxy's `request` and `session` events as access log lines, off the hot path. An event only
 * keeps a reference to its (already allocated) record; formatting and writing happen in one batch per event
 * `flushInterval` ms (default 10; 0 = every event loop turn), as one write of many lines. A stream that pushes back (write() false) is waited
 * for; meanwhile at most `maxBuffered` records are held and the rest counted in `dropped` — a request never
 * waits for its log line.
 */
import type { Writable } from "node:stream";
import { emitError, systemTime, type Timers } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { ProxyConfigError, ProxyError } from "../errors.js";
import type { ReverseProxy } from "../proxy.js";
import type { TransactionLog } from "../shell.js";
import { accessJson, httplog, tcplog } from "./format.js";

/** What an admin change logs (also the AdminServer's `admin` event). */
export interface AdminLogEntry {
  who: string;
  /** The client address of the admin request. */
  remote: string;
  action: string;
  backend: string;
  server: string;
  detail?: unknown;
  /** Wall-clock ms. */
  at: number;
}

export interface AccessLogOptions {
  /** The proxy whose traffic is logged. */
  proxy: ReverseProxy;
  /** A stream (not closed by the log: the caller owns it) or a function given each batch of lines. */
  to: Writable | ((lines: string[]) => void);
  /** `json` (one JSON object per line, default) or `haproxy` (httplog / tcplog text). */
  format?: "json" | "haproxy";
  /** Records held while the stream pushes back before new ones are dropped. Default 10000. */
  maxBuffered?: number;
  /** Ms between writes: lines gather for this long and go out in one write. Default 10; 0 = every loop turn. */
  flushInterval?: number;
  /** Timers for the flush (default core's systemTime). */
  time?: Timers;
}

/** HAProxy's actconn/feconn/beconn/srv_conn, read when the transaction ended. */
type Conns = [number, number, number, number];
type Item =
  | { kind: "request" | "session"; e: TransactionLog; c: Conns }
  | { kind: "admin"; e: AdminLogEntry };

export interface AccessLogEvents {
  error: (err: Error) => void;
}

export class AccessLog extends EventEmitter<AccessLogEvents> {
  private readonly proxy: ReverseProxy;
  private readonly to: Writable | ((lines: string[]) => void);
  private readonly format: "json" | "haproxy";
  private readonly maxBuffered: number;
  private readonly flushInterval: number;
  private timer: unknown;
  private readonly timers: Timers;
  private pending: Item[] = [];
  private scheduled = false;
  private blocked = false;
  private running = false;
  /** Records dropped because the destination could not keep up. */
  dropped = 0;
  private readonly onRequest = (e: TransactionLog) => this.push({ kind: "request", e, c: this.conns(e) });
  private readonly onSession = (e: TransactionLog) => this.push({ kind: "session", e, c: this.conns(e) });
  private readonly flushNow = () => this.flush();

  constructor(options: AccessLogOptions) {
    super();
    if (!options || typeof options !== "object")
      throw new ProxyConfigError("log", options, "must be { proxy, to }");
    if (!options.proxy || typeof options.proxy.on !== "function")
      throw new ProxyConfigError("log.proxy", options.proxy, "must be a ReverseProxy");
    const to = options.to;
    if (typeof to !== "function" && (typeof to !== "object" || to === null || typeof to.write !== "function"))
      throw new ProxyConfigError(
        "log.to",
        to,
        "must be a writable stream or a function (lines: string[]) => void",
      );
    if (options.format !== undefined && options.format !== "json" && options.format !== "haproxy")
      throw new ProxyConfigError("log.format", options.format, 'must be "json" or "haproxy"');
    const max = options.maxBuffered ?? 10_000;
    if (!Number.isInteger(max) || max < 1)
      throw new ProxyConfigError("log.maxBuffered", max, "must be an integer >= 1");
    this.proxy = options.proxy;
    this.to = to;
    this.format = options.format ?? "json";
    this.maxBuffered = max;
    const fi = options.flushInterval ?? 10;
    if (!Number.isInteger(fi) || fi < 0 || fi > 60_000)
      throw new ProxyConfigError("log.flushInterval", fi, "must be whole milliseconds 0..60000");
    this.flushInterval = fi;
    this.timers = options.time ?? systemTime;
  }

  /** Starts listening to the proxy's transactions. */
  start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      this.proxy.on("request", this.onRequest);
      this.proxy.on("session", this.onSession);
    }
    return Promise.resolve();
  }

  /**
   * Stops listening and hands what is pending to the destination — to a stream even while it pushes back (it
   * buffers), so stop() never waits on a slow or stalled stream. The stream stays open: it is the caller's.
   */
  stop(): Promise<void> {
    if (this.running) {
      this.running = false;
      this.proxy.off("request", this.onRequest);
      this.proxy.off("session", this.onSession);
    }
    this.blocked = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.flush();
    return Promise.resolve();
  }

  private conns(e: TransactionLog): Conns {
    const p = this.proxy;
    let be = 0;
    let srv = 0;
    if (e.backend !== undefined) {
      let pool: ReturnType<ReverseProxy["backend"]>["pool"] | undefined;
      try {
        pool = p.backend(e.backend).pool;
      } catch {
        pool = undefined; // removed since: no counts
      }
      if (pool) {
        be = pool.stats().inFlight;
        if (e.server !== undefined) srv = pool.get(e.server)?.inFlight ?? 0;
      }
    }
    return [p.connections, p.frontendConnections(e.frontend), be, srv];
  }

  /** Logs an admin change (the AdminServer calls this). */
  admin(e: AdminLogEntry): void {
    this.push({ kind: "admin", e });
  }

  private push(item: Item): void {
    if (this.pending.length >= this.maxBuffered) {
      this.dropped++;
      return;
    }
    this.pending.push(item);
    if (!this.scheduled && !this.blocked) {
      this.scheduled = true;
      this.schedule();
    }
  }

  /** One line, as configured. */
  line(item: Item): string {
    if (item.kind === "admin")
      return this.format === "json"
        ? JSON.stringify({ type: "admin", time: new Date(item.e.at).toISOString(), ...item.e, at: undefined })
        : `admin ${item.e.who}@${item.e.remote} [${new Date(item.e.at).toISOString()}] ${item.e.action} ${item.e.backend}/${item.e.server}${item.e.detail !== undefined ? ` ${JSON.stringify(item.e.detail)}` : ""}`;
    if (this.format === "json") return accessJson(item.kind, item.e, item.c);
    return item.kind === "request" ? httplog(item.e, item.c) : tcplog(item.e, item.c);
  }

  private schedule(): void {
    if (this.flushInterval === 0) setImmediate(this.flushNow);
    else this.timer = this.timers.setTimeout(this.flushNow, this.flushInterval);
  }

  private flush(): void {
    this.scheduled = false;
    this.timer = undefined;
    if (this.blocked || this.pending.length === 0) return;
    const items = this.pending;
    this.pending = [];
    const lines = items.map((i) => this.line(i));
    const to = this.to;
    try {
      if (typeof to === "function") to(lines);
      else if (!to.write(`${lines.join("\n")}\n`)) {
        this.blocked = true;
        to.once("drain", () => {
          this.blocked = false;
          if (this.pending.length > 0 && !this.scheduled) {
            this.scheduled = true;
            this.schedule();
          }
        });
      }
    } catch (err) {
      emitError(
        this,
        new ProxyError(`access log: write failed: ${(err as Error).message}`, "ERR_LOG", { cause: err }),
      );
    }
  }
}
