/**
 * AdminServer: the runtime API over HTTP (node:http, or node:https with `tls`), on 127.0.0.1 by default. Every
 * request needs a bearer token or a basic-auth user (compared in constant time); an unauthenticated request gets
 * 401, a malformed one 400, an unknown path, backend or server 404 — and none of them changes anything. Each
 * change is emitted as an `admin` event and written to the access log, with who made it. Also serves the stats
 * page (HTML, `;csv`, `;json`) and Prometheus `/metrics`.
 */
import { Buffer } from "node:buffer";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { emitError } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { ProxyConfigError, ProxyError } from "../errors.js";
import type { AccessLog, AdminLogEntry } from "../log/access-log.js";
import type { ReverseProxy } from "../proxy.js";
import { renderCsv } from "../stats/csv.js";
import { renderHtml } from "../stats/html.js";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../stats/prometheus.js";
import { renderJson } from "../stats/snapshot.js";
import { ProxyStats } from "../stats/stats.js";
import { type AdminAuth, authenticate, compileAuth } from "./auth.js";
import { type AdminCommand, parseCommand } from "./commands.js";

export interface AdminServerOptions {
  proxy: ReverseProxy;
  /** Credentials; at least one token or user is required. */
  auth: AdminAuth;
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0 (any free port; read it from `address()`). */
  port?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Counters to show (default: a ProxyStats of its own, counting from the admin server's creation). */
  stats?: ProxyStats;
  /** Where admin changes are also logged. */
  log?: AccessLog;
  /** Largest request body accepted, bytes. Default 65536. */
  maxBody?: number;
  /** Seconds between the stats page's automatic reloads (0 = none). Default 5. */
  statsRefresh?: number;
}

export interface AdminServerEvents {
  admin: (e: AdminLogEntry) => void;
  error: (err: Error) => void;
}

/** What a handler returns once it has answered (so `return this.reply(…)` reads as the end of a branch). */
const DONE = Symbol("answered");
type Done = typeof DONE;

const OPTION_KEYS = ["proxy", "auth", "host", "port", "tls", "stats", "log", "maxBody", "statsRefresh"];

export class AdminServer extends EventEmitter<AdminServerEvents> {
  readonly stats: ProxyStats;
  private readonly proxy: ReverseProxy;
  private readonly creds: ReturnType<typeof compileAuth>;
  private readonly host: string;
  private readonly port: number;
  private readonly tls: AdminServerOptions["tls"];
  private readonly log: AccessLog | undefined;
  private readonly maxBody: number;
  private readonly refresh: number;
  private server: http.Server | undefined;
  /** Whether `stats` was made here (then start/stop attach/detach it) or passed in (then it is the caller's). */
  private readonly ownStats: boolean;
  private starting: Promise<void> | undefined;

  constructor(options: AdminServerOptions) {
    super();
    if (!options || typeof options !== "object")
      throw new ProxyConfigError("admin", options, "must be { proxy, auth, … }");
    for (const k of Object.keys(options))
      if (!OPTION_KEYS.includes(k))
        throw new ProxyConfigError(`admin.${k}`, k, `is not an option (known: ${OPTION_KEYS.join(", ")})`);
    if (!options.proxy || typeof options.proxy.backendIds !== "function")
      throw new ProxyConfigError("admin.proxy", options.proxy, "must be a ReverseProxy");
    this.creds = compileAuth(options.auth ?? {});
    if (this.creds.length === 0)
      throw new ProxyConfigError("admin.auth", options.auth, "needs at least one of tokens or users");
    for (const c of Object.values({ ...options.auth.tokens, ...options.auth.users }))
      if (typeof c !== "string" || c.length < 8)
        throw new ProxyConfigError(
          "admin.auth",
          "<redacted>",
          "each token or password must be a string of 8+ characters",
        );
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new ProxyConfigError("admin.port", port, "must be an integer 0..65535");
    this.proxy = options.proxy;
    this.host = options.host ?? "127.0.0.1";
    this.port = port;
    this.tls = options.tls;
    this.log = options.log;
    this.maxBody = options.maxBody ?? 65536;
    this.refresh = options.statsRefresh ?? 5;
    if (!Number.isInteger(this.refresh) || this.refresh < 0 || this.refresh > 3600)
      throw new ProxyConfigError("admin.statsRefresh", this.refresh, "must be whole seconds 0..3600");
    this.ownStats = options.stats === undefined;
    this.stats = options.stats ?? new ProxyStats(options.proxy);
  }

  /** The listening address once started. */
  address(): net.AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === "object" ? a : undefined;
  }

  start(): Promise<void> {
    if (this.server) return Promise.resolve();
    this.starting ??= new Promise<void>((resolve, reject) => {
      const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
      const server = this.tls
        ? https.createServer({ key: this.tls.key, cert: this.tls.cert }, handler)
        : http.createServer(handler);
      server.once("error", (e) => {
        this.starting = undefined;
        reject(
          new ProxyError(`admin: cannot listen on ${this.host}:${this.port}: ${e.message}`, "ERR_LISTEN"),
        );
      });
      server.listen(this.port, this.host, () => {
        server.removeAllListeners("error");
        server.on("error", (e) => emitError(this, new ProxyError(`admin: ${e.message}`, "ERR_LISTEN")));
        this.server = server;
        this.starting = undefined;
        if (this.ownStats) this.stats.attach();
        resolve();
      });
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    if (this.starting) await this.starting.catch(() => {});
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    if (this.ownStats) this.stats.detach();
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const remote = `${req.socket.remoteAddress ?? ""}:${req.socket.remotePort ?? 0}`;
    const who = authenticate(this.creds, req.headers.authorization);
    if (who === undefined) {
      req.resume();
      this.reply(
        res,
        401,
        { error: "authentication required (Authorization: Bearer <token> or Basic)" },
        {
          "www-authenticate": 'Basic realm="lbkit admin", charset="UTF-8"',
        },
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (d: Buffer) => {
      size += d.length;
      if (size <= this.maxBody) chunks.push(d);
    });
    req.on("end", (): Done => {
      if (size > this.maxBody) return this.reply(res, 413, { error: `body over ${this.maxBody} bytes` });
      const cmd = parseCommand(req.method ?? "GET", req.url ?? "/", Buffer.concat(chunks).toString("utf8"));
      if ("error" in cmd) return this.reply(res, cmd.error, { error: cmd.message });
      return this.run(cmd, who, remote, res);
    });
  }

  private run(cmd: AdminCommand, who: string, remote: string, res: http.ServerResponse): Done {
    switch (cmd.kind) {
      case "stats": {
        const snap = this.stats.snapshot();
        if (cmd.format === "csv") return this.send(res, 200, "text/plain; charset=utf-8", renderCsv(snap));
        if (cmd.format === "json") return this.send(res, 200, "application/json", renderJson(snap));
        return this.send(
          res,
          200,
          "text/html; charset=utf-8",
          renderHtml(snap, {
            csvHref: "/stats;csv",
            jsonHref: "/stats;json",
            refresh: this.refresh,
          }),
        );
      }
      case "metrics":
        return this.send(res, 200, PROMETHEUS_CONTENT_TYPE, renderPrometheus(this.stats.snapshot()));
      case "servers":
        return this.reply(
          res,
          200,
          this.proxy.backendIds().map((id) => {
            const be = this.proxy.backend(id);
            return {
              backend: id,
              servers: be.pool.servers.map((s) => ({
                id: s.id,
                address: s.address,
                port: s.port,
                state: s.state,
                weight: s.weight,
                maxconn: s.maxConn,
                maxqueue: be.serverMaxQueue(s.id) ?? 0,
                backup: s.backup,
                inFlight: s.inFlight,
              })),
            };
          }),
        );
    }
    if (!this.proxy.backendIds().includes(cmd.backend))
      return this.reply(res, 404, { error: `no backend ${cmd.backend}` });
    const be = this.proxy.backend(cmd.backend);
    const exists = be.pool.get(cmd.server) !== undefined;
    if (cmd.kind === "add" ? exists : !exists)
      return this.reply(res, cmd.kind === "add" ? 409 : 404, {
        error:
          cmd.kind === "add"
            ? `server ${cmd.server} already exists in ${cmd.backend}`
            : `no server ${cmd.server} in ${cmd.backend}`,
      });
    let detail: unknown;
    try {
      switch (cmd.kind) {
        case "set":
          this.proxy.setServer(cmd.backend, cmd.server, cmd.change);
          detail = cmd.change;
          break;
        case "add":
          this.proxy.addServer(cmd.backend, {
            ...(cmd.options as { address: string; port: number }),
            id: cmd.server,
          });
          detail = cmd.options;
          break;
        case "remove":
          this.proxy.removeServer(cmd.backend, cmd.server);
          break;
        case "shutdown-sessions":
          detail = { killed: this.proxy.shutdownSessions(cmd.backend, cmd.server) };
          break;
      }
    } catch (e) {
      if (e instanceof ProxyConfigError) return this.reply(res, 400, { error: e.message });
      emitError(
        this,
        new ProxyError(`admin: ${cmd.kind} failed: ${(e as Error).message}`, "ERR_ADMIN", { cause: e }),
      );
      return this.reply(res, 500, { error: "internal error" });
    }
    const entry: AdminLogEntry = {
      who,
      remote,
      action:
        cmd.kind === "set"
          ? "set-server"
          : cmd.kind === "add"
            ? "add-server"
            : cmd.kind === "remove"
              ? "del-server"
              : "shutdown-sessions",
      backend: cmd.backend,
      server: cmd.server,
      ...(detail !== undefined ? { detail } : {}),
      at: Date.now(),
    };
    this.emit("admin", entry);
    this.log?.admin(entry);
    return this.reply(res, 200, { ok: true, ...entry });
  }

  private reply(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): Done {
    return this.send(res, status, "application/json", `${JSON.stringify(body)}\n`, headers);
  }

  private send(
    res: http.ServerResponse,
    status: number,
    type: string,
    body: string,
    headers: Record<string, string> = {},
  ): Done {
    res.writeHead(status, {
      "content-type": type,
      "cache-control": "no-cache",
      "content-length": Buffer.byteLength(body),
      ...headers,
    });
    res.end(res.req.method === "HEAD" ? undefined : body);
    return DONE;
  }
}
