/**
 * The configuration model in HAProxy's vocabulary, and its validation (pure): options in, normalised
 * configuration out, or a ProxyConfigError naming the option, the value and the fix. Over 350 lines because
 * it is the one place every option is declared, documented and checked; it has no logic beyond that.
 */
import { type AlgorithmFactory, parseAlgorithm } from "@lbkit/balancer";
import { type Cidr, parseCidr, showValue as show } from "@lbkit/core";
import type { Checker, PassiveOptions, TargetOptions } from "@lbkit/healthcheck";
import { ProxyConfigError } from "./errors.js";
import { type CaptureOptions, type NormalCapture, normaliseCapture } from "./log/capture.js";
import { type FailureKind, RETRY_ON, type RetryPolicy } from "./retry.js";
import type { RouteRule } from "./route.js";
import { type NormalStats, normaliseStats, type StatsOption } from "./stats/option.js";

function tcpStats(at: string, v: unknown): undefined {
  if (v !== undefined)
    throw new ProxyConfigError(at, v, "needs an http frontend (mode tcp cannot answer HTTP)");
  return undefined;
}

import { type CookieOptions, type NormalCookie, normaliseCookie } from "./persist/cookie.js";
import { type NormalStick, normaliseStick, type StickOptions } from "./persist/stick.js";
import type { AcceptProxyConfig } from "./proxy-protocol/accept.js";
import { type NormalTls, normaliseTls, type TlsOptions } from "./tls/terminator.js";
import { type ServerTlsOptions, serverTls } from "./tls/upstream.js";

const DAY = 86_400_000;

/** `"127.0.0.1:8080"`, `":8080"` (all IPv4+IPv6 addresses), `"[::1]:8080"`, or `{ host?, port }`. */
export type BindOption = string | { host?: string; port: number };

export interface Bind {
  host: string | undefined;
  port: number;
}

/** HAProxy `http-request` actions, evaluated in order before routing; the first final action ends the list. */
export type HttpRequestRule =
  | { setHeader: string; value: string }
  | { addHeader: string; value: string }
  | { delHeader: string }
  | {
      redirect: string;
      code?: 301 | 302 | 303 | 307 | 308;
      if?: (facts: import("./route.js").RequestFacts) => boolean;
    }
  | { deny: true; status?: number; if?: (facts: import("./route.js").RequestFacts) => boolean }
  | {
      return: number;
      body?: string;
      contentType?: string;
      if?: (facts: import("./route.js").RequestFacts) => boolean;
    };

/** What an `http-response` condition sees: the response head, the request it answers, who answered. */
export interface ResponseFacts {
  status: number;
  /** A response header's value (first occurrence), by lower-case name. */
  header(name: string): string | undefined;
  /** The request (client address, method, host, path, query, request headers). */
  request: import("./route.js").RequestFacts;
  backend: string;
  server: string | undefined;
}

/** An `http-response … if <cond>` condition. */
export type ResponseCondition = (facts: ResponseFacts) => boolean;

/**
 * HAProxy `http-response` actions, evaluated in order on each response head from a server: header edits, and
 * `deny` (502 by default, logged PH) / `return` replacing the server's response; the first of those two that
 * applies ends the list. `if` makes a rule conditional (`http-response … if <cond>`).
 */
export type HttpResponseRule =
  | { setHeader: string; value: string; if?: ResponseCondition }
  | { addHeader: string; value: string; if?: ResponseCondition }
  | { delHeader: string; if?: ResponseCondition }
  | { deny: true; status?: number; if?: ResponseCondition }
  | { return: number; body?: string; contentType?: string; if?: ResponseCondition };

export interface FrontendTimeouts {
  /** HAProxy `timeout client`: client inactivity. Default 30000. */
  client?: number;
  /** HAProxy `timeout http-request`: whole request head must arrive within it (slowloris). Default 10000. */
  httpRequest?: number;
  /** HAProxy `timeout http-keep-alive`: wait for the next request on a kept-alive connection. Default httpRequest. */
  httpKeepAlive?: number;
  /** HAProxy `timeout client-fin`: inactivity once the client side is half-closed. Default client. */
  clientFin?: number;
}

export interface ForwardForOptions {
  /** HAProxy `option forwardfor except <net>`: no X-Forwarded-For for clients in these CIDRs. */
  except?: string | readonly string[];
  /** HAProxy `option forwardfor header <name>`. Default X-Forwarded-For. */
  header?: string;
  /** Also X-Forwarded-Proto. */
  proto?: boolean;
  /** Also X-Forwarded-Host. */
  host?: boolean;
  /** RFC 7239 Forwarded. */
  forwarded?: boolean;
}

export interface FrontendOptions {
  id: string;
  bind: BindOption | readonly BindOption[];
  /** Default "http". */
  mode?: "http" | "tcp";
  /** `use_backend <id> if <cond>` rules (first match wins) and `geo` maps. */
  rules?: readonly RouteRule[];
  /** HAProxy `default_backend`. */
  defaultBackend?: string;
  timeouts?: FrontendTimeouts;
  /** HAProxy `option forwardfor` (http only). */
  forwardFor?: boolean | ForwardForOptions;
  /** HAProxy `http-request` rules (http only). */
  httpRequest?: readonly HttpRequestRule[];
  /** HAProxy `http-response set-header/add-header/del-header/deny/return [if <cond>]` (http only). */
  httpResponse?: readonly HttpResponseRule[];
  /** HAProxy `maxconn` on the frontend: connections beyond it wait, unread, for a slot (FIFO). 0 = no limit. */
  maxconn?: number;
  /** Accept CONNECT (tunnels to the routed server). Default false: 405. */
  connect?: boolean;
  /** Largest request head accepted, bytes (431 beyond). Default 16384. */
  maxHeadSize?: number;
  /** HAProxy `stats uri` (+ `stats refresh`): this frontend answers the stats page itself (http only). */
  stats?: StatsOption;
  /** HAProxy `capture request|response header <name> len <n>`: header values recorded in the access log (http only). */
  capture?: CaptureOptions;
  /**
   * HAProxy `accept-proxy`: every connection starts with a PROXY protocol v1 or v2 header whose client address
   * is used for routing, `source` hashing, logs and forwarded headers; a missing or malformed one closes the
   * connection. `{ trusted }` expects it only from those networks (others are served with their own address);
   * `timeout` bounds the wait for it (default `timeouts.httpRequest` in http mode, `timeouts.client` in tcp).
   */
  acceptProxy?: boolean | { trusted?: string | readonly string[]; timeout?: number };
  /** HAProxy `bind … ssl crt …`: TLS termination (http or tcp mode), certificates chosen by SNI. */
  tls?: TlsOptions;
}

export interface ServerOptions {
  id: string;
  address: string;
  port: number;
  /** 0..256, default 1. */
  weight?: number;
  /**
   * Concurrent requests (L7) or connections (L4) at most; 0 = no limit. Beyond it, a request bound to this server
   * (persistence cookie, stick entry, or a hash `balance`) waits in this server's queue, any other in the
   * backend queue.
   */
  maxconn?: number;
  /**
   * HAProxy server `maxqueue`: requests waiting in this server's queue at most; one more is redispatched when
   * it is persisted and `redispatch` is on, else answered 503. 0 = unbounded. Default 0.
   */
  maxqueue?: number;
  backup?: boolean;
  /** Active health checks with the backend's `healthCheck` settings (true), or target options of its own. */
  check?: boolean | Partial<Omit<TargetOptions, "id">>;
  /** Initial state. Default up. */
  state?: "up" | "down" | "drain" | "maint";
  /**
   * HAProxy `send-proxy` ("v1") / `send-proxy-v2` ("v2"): each connection to this server starts with a PROXY
   * header carrying the client's addresses. In http mode such connections are not shared between clients.
   */
  sendProxy?: "v1" | "v2";
  /** HAProxy `cookie <value>`: this server's value in the persistence cookie (and stick tables). Default its id. */
  cookie?: string;
  /**
   * HAProxy `ssl verify required ca-file … sni …`: TLS to this server (http or tcp mode), verified by default; its
   * active checks run over TLS too (`check-ssl`).
   */
  ssl?: true | ServerTlsOptions;
}

export interface BackendTimeouts {
  /** HAProxy `timeout connect`. Default 5000. */
  connect?: number;
  /** HAProxy `timeout server`: server inactivity (and time to the response head). Default 30000. */
  server?: number;
  /** HAProxy `timeout queue`: longest wait for a free server slot. Default connect. */
  queue?: number;
  /** HAProxy `timeout server-fin`. Default server. */
  serverFin?: number;
  /**
   * HAProxy `timeout tunnel`: inactivity in WebSocket/CONNECT tunnels and L4 sessions, superseding `client`
   * and `server` there. Default unset: the client and server timeouts apply to their own sides.
   */
  tunnel?: number;
}

export interface HealthCheckOptions extends Partial<Omit<TargetOptions, "id" | "check">> {
  /** Builds the checker of one server. Default: a TCP connect check (HAProxy `check` without `option httpchk`). */
  check?: (server: {
    id: string;
    address: string;
    port: number;
    /** The server's `ssl` settings as healthcheck TLS options, when it has `ssl`. */
    tls?: { servername?: string; ca?: string | Buffer; rejectUnauthorized: boolean };
  }) => Checker;
}

export interface KeepAliveOptions {
  /** Idle connections kept per server. Default 64; 0 disables reuse (HAProxy `http-reuse never`). */
  maxIdle?: number;
  /** Idle connection lifetime, ms (HAProxy `pool-purge-delay`-like). Default 5000. */
  idleTimeout?: number;
  /** Requests per connection at most (HAProxy `max-reuse`). 0 = no limit. Default 0. */
  maxRequests?: number;
}

export interface BackendOptions {
  id: string;
  /** Default "http". A tcp frontend needs tcp backends. */
  mode?: "http" | "tcp";
  /** HAProxy `balance` (roundrobin, leastconn, source, uri, url_param, hdr(name), random, first, …) or a factory. */
  balance?: string | AlgorithmFactory;
  servers?: readonly ServerOptions[];
  /** Active checks for servers with `check`. */
  healthCheck?: HealthCheckOptions;
  /** HAProxy `observe` + `error-limit` + `on-error`: real traffic feeds the servers' health. */
  passive?: PassiveOptions;
  /** HAProxy `retries`. Default 3. */
  retries?: number;
  /** HAProxy `option redispatch [interval]`: true = -1 (on the last retry), false/0 off. Default true. */
  redispatch?: boolean | number;
  /** HAProxy `retry-on`. Default ["conn-failure", "empty-response", "response-timeout"]. */
  retryOn?: readonly FailureKind[];
  /**
   * Requests waiting in the backend queue at most (lbkit's bound; HAProxy's backend queue has none, its
   * `maxqueue` is per server: see ServerOptions.maxqueue); 0 = unbounded. Default 0.
   */
  maxqueue?: number;
  /**
   * HAProxy `option abortonclose`: a client that closes its side (FIN) while its request (http) or session
   * (tcp) waits in a queue, in the retry turn-around or for the connection to its server is dropped there
   * (CQ / CC) instead of being served. Off by default: a client that half-closes after a complete request still gets its response.
   */
  abortOnClose?: boolean;
  timeouts?: BackendTimeouts;
  keepAlive?: KeepAliveOptions;
  /** HAProxy `cookie <name> insert|prefix|rewrite …` (http only): cookie persistence. */
  cookie?: CookieOptions;
  /** HAProxy `stick-table` + `stick on <key>`: key → server persistence with a size bound and expiry. */
  stick?: StickOptions;
}

export interface NormalFrontend {
  id: string;
  binds: Bind[];
  mode: "http" | "tcp";
  rules: readonly RouteRule[];
  defaultBackend: string | undefined;
  timeouts: Required<FrontendTimeouts>;
  forwardFor: ForwardForOptions | undefined;
  httpRequest: readonly HttpRequestRule[];
  httpResponse: readonly HttpResponseRule[];
  maxconn: number;
  connect: boolean;
  maxHeadSize: number;
  stats: NormalStats | undefined;
  capture: NormalCapture | undefined;
  acceptProxy: AcceptProxyConfig | undefined;
  tls: NormalTls | undefined;
}

export interface NormalBackend {
  id: string;
  mode: "http" | "tcp";
  balance: string | AlgorithmFactory;
  servers: ServerOptions[];
  healthCheck: HealthCheckOptions;
  passive: PassiveOptions | undefined;
  policy: RetryPolicy;
  maxqueue: number;
  abortOnClose: boolean;
  timeouts: Required<Omit<BackendTimeouts, "tunnel">> & { tunnel: number | undefined };
  keepAlive: Required<KeepAliveOptions>;
  cookie: NormalCookie | undefined;
  stick: NormalStick | undefined;
}

function known(option: string, obj: object, keys: readonly string[]): void {
  for (const k of Object.keys(obj))
    if (!keys.includes(k))
      throw new ProxyConfigError(`${option}.${k}`, k, `is not an option (known: ${keys.join(", ")})`);
}

export function ms(option: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 1 || v > DAY)
    throw new ProxyConfigError(option, v, `must be milliseconds in 1..${DAY}`);
  return v;
}

export function int(option: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new ProxyConfigError(option, v, `must be an integer in ${min}..${max}`);
  return v;
}

function bool(option: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new ProxyConfigError(option, v, "must be true or false");
  return v;
}

function id(option: string, v: unknown): string {
  if (typeof v !== "string" || v.length === 0 || /[\s/;]/.test(v))
    throw new ProxyConfigError(option, v, "must be a non-empty string without spaces, '/' or ';'");
  return v;
}

export function parseBind(option: string, b: BindOption): Bind {
  if (typeof b === "object" && b !== null) {
    known(option, b, ["host", "port"]);
    if (b.host !== undefined && (typeof b.host !== "string" || !b.host))
      throw new ProxyConfigError(`${option}.host`, b.host, "must be an address or host name");
    return { host: b.host, port: int(`${option}.port`, b.port, -1, 0, 65535) };
  }
  if (typeof b !== "string")
    throw new ProxyConfigError(option, b, 'must be "host:port", ":port", "[v6]:port" or { host, port }');
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(b);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535)
    throw new ProxyConfigError(option, b, 'must be "host:port", ":port" or "[v6]:port" with a port 0..65535');
  const host = m[1] ?? m[2];
  return { host: host ? host : undefined, port };
}

const FRONTEND_KEYS = [
  "id",
  "bind",
  "mode",
  "rules",
  "defaultBackend",
  "timeouts",
  "forwardFor",
  "httpRequest",
  "httpResponse",
  "maxconn",
  "connect",
  "maxHeadSize",
  "stats",
  "capture",
  "acceptProxy",
  "tls",
];
const BACKEND_KEYS = [
  "id",
  "mode",
  "balance",
  "servers",
  "healthCheck",
  "passive",
  "retries",
  "redispatch",
  "retryOn",
  "maxqueue",
  "abortOnClose",
  "timeouts",
  "keepAlive",
  "cookie",
  "stick",
];
const SERVER_KEYS = [
  "id",
  "address",
  "port",
  "weight",
  "maxconn",
  "maxqueue",
  "backup",
  "check",
  "state",
  "sendProxy",
  "cookie",
  "ssl",
];

function mode(option: string, v: unknown): "http" | "tcp" {
  if (v === undefined) return "http";
  if (v !== "http" && v !== "tcp") throw new ProxyConfigError(option, v, 'must be "http" or "tcp"');
  return v;
}

function checkHttpRule(option: string, r: HttpRequestRule | HttpResponseRule): void {
  if (typeof r !== "object" || r === null)
    throw new ProxyConfigError(option, r, "must be an http-request rule object");
  const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  if ("setHeader" in r || "addHeader" in r) {
    const name = "setHeader" in r ? r.setHeader : r.addHeader;
    if (typeof name !== "string" || !headerName.test(name))
      throw new ProxyConfigError(option, name, "must be a header field name (token)");
    if (typeof r.value !== "string" || /[\r\n\0]/.test(r.value))
      throw new ProxyConfigError(`${option}.value`, r.value, "must be a string without CR, LF or NUL");
  } else if ("delHeader" in r) {
    if (typeof r.delHeader !== "string" || !headerName.test(r.delHeader))
      throw new ProxyConfigError(option, r.delHeader, "must be a header field name (token)");
  } else if ("redirect" in r) {
    if (typeof r.redirect !== "string" || /[\r\n\0 ]/.test(r.redirect) || !r.redirect)
      throw new ProxyConfigError(
        `${option}.redirect`,
        r.redirect,
        "must be a location without spaces, CR, LF or NUL",
      );
    if (r.code !== undefined && ![301, 302, 303, 307, 308].includes(r.code))
      throw new ProxyConfigError(`${option}.code`, r.code, "must be 301, 302, 303, 307 or 308");
  } else if ("deny" in r) {
    if (r.status !== undefined) int(`${option}.status`, r.status, 403, 400, 599);
  } else if ("return" in r) {
    int(`${option}.return`, r.return, 200, 200, 599);
    if (r.body !== undefined && typeof r.body !== "string")
      throw new ProxyConfigError(`${option}.body`, r.body, "must be a string");
    if (r.contentType !== undefined && (typeof r.contentType !== "string" || /[\r\n\0]/.test(r.contentType)))
      throw new ProxyConfigError(`${option}.contentType`, r.contentType, "must be a media type");
  } else
    throw new ProxyConfigError(
      option,
      r,
      "must be one of setHeader, addHeader, delHeader, redirect, deny, return",
    );
  if ("if" in r && r.if !== undefined && typeof r.if !== "function")
    throw new ProxyConfigError(`${option}.if`, r.if, "must be a function (facts) => boolean");
}

export function normaliseFrontend(i: number, f: FrontendOptions): NormalFrontend {
  const at = `frontends[${i}]`;
  if (typeof f !== "object" || f === null) throw new ProxyConfigError(at, f, "must be a frontend object");
  known(at, f, FRONTEND_KEYS);
  const fid = id(`${at}.id`, f.id);
  const bindList = Array.isArray(f.bind) ? f.bind : f.bind === undefined ? [] : [f.bind];
  if (bindList.length === 0)
    throw new ProxyConfigError(`${at}.bind`, f.bind, 'needs at least one address, e.g. "127.0.0.1:8080"');
  const binds = bindList.map((b, j) => parseBind(`${at}.bind[${j}]`, b as BindOption));
  const t = f.timeouts ?? {};
  known(`${at}.timeouts`, t, ["client", "httpRequest", "httpKeepAlive", "clientFin"]);
  const client = ms(`${at}.timeouts.client`, t.client, 30_000);
  const httpRequest = ms(`${at}.timeouts.httpRequest`, t.httpRequest, 10_000);
  const m = mode(`${at}.mode`, f.mode);
  let forwardFor: ForwardForOptions | undefined;
  if (f.forwardFor) {
    forwardFor = f.forwardFor === true ? {} : f.forwardFor;
    known(`${at}.forwardFor`, forwardFor, ["except", "header", "proto", "host", "forwarded"]);
    const except =
      forwardFor.except === undefined
        ? []
        : Array.isArray(forwardFor.except)
          ? forwardFor.except
          : [forwardFor.except];
    for (const c of except as string[])
      if (typeof c !== "string" || !parseCidr(c))
        throw new ProxyConfigError(`${at}.forwardFor.except`, c, "is not a CIDR (10.0.0.0/8, ::1/128)");
  }
  const httpRequestRules = f.httpRequest ?? [];
  if (!Array.isArray(httpRequestRules))
    throw new ProxyConfigError(`${at}.httpRequest`, httpRequestRules, "must be an array of rules");
  for (const [j, r] of httpRequestRules.entries()) checkHttpRule(`${at}.httpRequest[${j}]`, r);
  const httpResponseRules = f.httpResponse ?? [];
  if (!Array.isArray(httpResponseRules))
    throw new ProxyConfigError(`${at}.httpResponse`, httpResponseRules, "must be an array of rules");
  for (const [j, r] of httpResponseRules.entries()) {
    if (typeof r !== "object" || r === null || "redirect" in r)
      throw new ProxyConfigError(
        `${at}.httpResponse[${j}]`,
        r,
        "must be one of setHeader, addHeader, delHeader, deny, return",
      );
    checkHttpRule(`${at}.httpResponse[${j}]`, r);
  }
  if (m === "tcp" && (forwardFor || httpRequestRules.length > 0 || httpResponseRules.length > 0))
    throw new ProxyConfigError(
      `${at}.mode`,
      m,
      "cannot apply forwardFor, httpRequest or httpResponse rules: use mode http",
    );
  return {
    id: fid,
    binds,
    mode: m,
    rules: f.rules ?? [],
    defaultBackend: f.defaultBackend,
    timeouts: {
      client,
      httpRequest,
      httpKeepAlive: ms(`${at}.timeouts.httpKeepAlive`, t.httpKeepAlive, httpRequest),
      clientFin: ms(`${at}.timeouts.clientFin`, t.clientFin, client),
    },
    forwardFor,
    httpRequest: httpRequestRules,
    httpResponse: httpResponseRules,
    maxconn: int(`${at}.maxconn`, f.maxconn, 0, 0, 10_000_000),
    connect: f.connect === true,
    maxHeadSize: int(`${at}.maxHeadSize`, f.maxHeadSize, 16_384, 1024, 1_048_576),
    stats: m === "http" ? normaliseStats(`${at}.stats`, f.stats) : tcpStats(`${at}.stats`, f.stats),
    capture:
      m === "http" ? normaliseCapture(`${at}.capture`, f.capture) : tcpStats(`${at}.capture`, f.capture),
    acceptProxy: acceptProxy(`${at}.acceptProxy`, f.acceptProxy, m === "http" ? httpRequest : client),
    tls:
      f.tls === undefined
        ? undefined
        : frontendTls(`${at}.tls`, f.tls, m, m === "http" ? httpRequest : client),
  };
}

function frontendTls(option: string, v: TlsOptions, m: "http" | "tcp", timeout: number): NormalTls {
  const n = normaliseTls(option, v, timeout);
  if (m === "tcp" && n.alpn.includes("h2"))
    throw new ProxyConfigError(`${option}.alpn`, "h2", "needs mode http (a tcp frontend relays bytes)");
  return n;
}

function acceptProxy(
  option: string,
  v: FrontendOptions["acceptProxy"],
  dfltTimeout: number,
): AcceptProxyConfig | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return { trusted: undefined, timeout: dfltTimeout };
  if (typeof v !== "object" || v === null)
    throw new ProxyConfigError(option, v, "must be true or { trusted?: CIDRs, timeout?: ms }");
  known(option, v, ["trusted", "timeout"]);
  let trusted: Cidr[] | undefined;
  if (v.trusted !== undefined) {
    const list = typeof v.trusted === "string" ? [v.trusted] : v.trusted;
    if (!Array.isArray(list) || list.length === 0)
      throw new ProxyConfigError(
        `${option}.trusted`,
        v.trusted,
        "must be a CIDR or a non-empty array of CIDRs",
      );
    trusted = list.map((c) => {
      const cidr = parseCidr(c);
      if (!cidr) throw new ProxyConfigError(`${option}.trusted`, c, "is not a CIDR (10.0.0.0/8, ::1/128)");
      return cidr;
    });
  }
  return { trusted, timeout: ms(`${option}.timeout`, v.timeout, dfltTimeout) };
}

export function normaliseServer(at: string, s: ServerOptions): ServerOptions {
  if (typeof s !== "object" || s === null)
    throw new ProxyConfigError(at, s, "must be { id, address, port, ... }");
  known(at, s, SERVER_KEYS);
  id(`${at}.id`, s.id);
  if (typeof s.address !== "string" || s.address.length === 0)
    throw new ProxyConfigError(`${at}.address`, s.address, "must be an IP address or host name");
  int(`${at}.port`, s.port, -1, 1, 65535);
  int(`${at}.weight`, s.weight, 1, 0, 256);
  int(`${at}.maxconn`, s.maxconn, 0, 0, 10_000_000);
  int(`${at}.maxqueue`, s.maxqueue, 0, 0, 10_000_000);
  if (s.state !== undefined && !["up", "down", "drain", "maint"].includes(s.state))
    throw new ProxyConfigError(`${at}.state`, s.state, "must be up, down, drain or maint");
  if (s.sendProxy !== undefined && s.sendProxy !== "v1" && s.sendProxy !== "v2")
    throw new ProxyConfigError(
      `${at}.sendProxy`,
      s.sendProxy,
      'must be "v1" (send-proxy) or "v2" (send-proxy-v2)',
    );
  if (
    s.cookie !== undefined &&
    (typeof s.cookie !== "string" || !/^[!#$%&'*+\-.^_`0-9A-Za-z]+$/.test(s.cookie))
  )
    throw new ProxyConfigError(
      `${at}.cookie`,
      s.cookie,
      "must be cookie-safe token characters (no '|', '~', ';')",
    );
  if (s.ssl !== undefined) serverTls(`${at}.ssl`, s.ssl, s.address);
  return s;
}

export function normaliseBackend(i: number, b: BackendOptions): NormalBackend {
  const at = `backends[${i}]`;
  if (typeof b !== "object" || b === null) throw new ProxyConfigError(at, b, "must be a backend object");
  known(at, b, BACKEND_KEYS);
  const bid = id(`${at}.id`, b.id);
  const balance = b.balance ?? "roundrobin";
  if (typeof balance === "string") {
    try {
      parseAlgorithm(balance);
    } catch (e) {
      throw new ProxyConfigError(
        `${at}.balance`,
        balance,
        `is not a balance algorithm (${(e as Error).message})`,
      );
    }
  } else if (typeof balance?.create !== "function")
    throw new ProxyConfigError(`${at}.balance`, balance, "must be an algorithm name or factory");
  const servers = (b.servers ?? []).map((s, j) => normaliseServer(`${at}.servers[${j}]`, s));
  const ids = new Set<string>();
  for (const s of servers) {
    if (ids.has(s.id)) throw new ProxyConfigError(`${at}.servers`, s.id, "is a duplicate server id");
    ids.add(s.id);
  }
  const t = b.timeouts ?? {};
  known(`${at}.timeouts`, t, ["connect", "server", "queue", "serverFin", "tunnel"]);
  const connect = ms(`${at}.timeouts.connect`, t.connect, 5_000);
  const server = ms(`${at}.timeouts.server`, t.server, 30_000);
  const retryOn = b.retryOn ?? RETRY_ON;
  for (const r of retryOn)
    if (!RETRY_ON.includes(r))
      throw new ProxyConfigError(`${at}.retryOn`, r, `must be one of ${RETRY_ON.join(", ")}`);
  const redispatch =
    b.redispatch === undefined || b.redispatch === true
      ? -1
      : b.redispatch === false
        ? 0
        : int(`${at}.redispatch`, b.redispatch, -1, -100, 100);
  const ka = b.keepAlive ?? {};
  known(`${at}.keepAlive`, ka, ["maxIdle", "idleTimeout", "maxRequests"]);
  const hc = b.healthCheck ?? {};
  if (hc.check !== undefined && typeof hc.check !== "function")
    throw new ProxyConfigError(
      `${at}.healthCheck.check`,
      hc.check,
      "must be a function (server) => Checker, e.g. (s) => httpCheck({ host: s.address, port: s.port, path: '/health' })",
    );
  const m = mode(`${at}.mode`, b.mode);
  for (const [j, sv] of servers.entries()) {
    if (sv.ssl !== undefined && sv.sendProxy !== undefined)
      throw new ProxyConfigError(
        `${at}.servers[${j}].sendProxy`,
        sv.sendProxy,
        "cannot be combined with ssl yet",
      );
  }
  if (b.cookie !== undefined && m === "tcp")
    throw new ProxyConfigError(`${at}.cookie`, b.cookie, 'needs mode http (use stick: { on: "src" } in tcp)');
  return {
    id: bid,
    mode: m,
    cookie: b.cookie === undefined ? undefined : normaliseCookie(`${at}.cookie`, b.cookie),
    stick: b.stick === undefined ? undefined : normaliseStick(`${at}.stick`, b.stick, m),
    balance,
    servers,
    healthCheck: hc,
    passive: b.passive,
    policy: { retries: int(`${at}.retries`, b.retries, 3, 0, 100), redispatch, retryOn: new Set(retryOn) },
    maxqueue: int(`${at}.maxqueue`, b.maxqueue, 0, 0, 10_000_000),
    abortOnClose: bool(`${at}.abortOnClose`, b.abortOnClose),
    timeouts: {
      connect,
      server,
      queue: ms(`${at}.timeouts.queue`, t.queue, connect),
      serverFin: ms(`${at}.timeouts.serverFin`, t.serverFin, server),
      tunnel: t.tunnel === undefined ? undefined : ms(`${at}.timeouts.tunnel`, t.tunnel, server),
    },
    keepAlive: {
      maxIdle: int(`${at}.keepAlive.maxIdle`, ka.maxIdle, 64, 0, 100_000),
      idleTimeout: ms(`${at}.keepAlive.idleTimeout`, ka.idleTimeout, 5_000),
      maxRequests: int(`${at}.keepAlive.maxRequests`, ka.maxRequests, 0, 0, 1_000_000_000),
    },
  };
}

/** Every frontend's routes must name configured backends of the same mode. */
export function checkReferences(
  frontends: readonly NormalFrontend[],
  backends: ReadonlyMap<string, NormalBackend>,
  named: (f: NormalFrontend) => Iterable<string>,
): void {
  for (const f of frontends)
    for (const b of named(f)) {
      const be = backends.get(b);
      if (!be)
        throw new ProxyConfigError(
          `frontend ${show(f.id)} backend`,
          b,
          `is not configured (backends: ${[...backends.keys()].join(", ") || "none"})`,
        );
      if (be.mode !== f.mode)
        throw new ProxyConfigError(
          `frontend ${show(f.id)} backend`,
          b,
          `is mode ${be.mode} but the frontend is mode ${f.mode}: modes must match`,
        );
    }
}
