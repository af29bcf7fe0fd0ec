/**
 * A frontend's `stats` option (HAProxy `stats uri` + `stats refresh`), validated (pure), and the HTTP answer the
 * L7 shell sends for it: `<uri>` the HTML page, `<uri>;csv` HAProxy's CSV, `<uri>;json` the JSON snapshot.
 * With `auth` (HAProxy `stats auth user:pass`) it asks for credentials (basic auth, or bearer tokens), compared in
 * constant time; without it, like HAProxy's page, anyone who reaches the frontend can read it.
 */
import { Buffer } from "node:buffer";
import { type AdminAuth, authenticate, compileAuth } from "../admin/auth.js";
import { ProxyConfigError } from "../errors.js";
import type { RequestHead } from "../http/types.js";
import { renderCsv } from "./csv.js";
import { renderHtml } from "./html.js";
import { renderJson, type StatsSnapshot } from "./snapshot.js";

export interface StatsOption {
  /** Path of the page, e.g. "/web-status". */
  uri: string;
  /** Seconds between the page's reloads, 0 = none. Default 5. */
  refresh?: number;
  /** HAProxy `stats auth`: users (basic auth) and/or bearer tokens; unset = no authentication. */
  auth?: AdminAuth;
}

export interface NormalStats {
  uri: string;
  refresh: number;
  creds: ReturnType<typeof compileAuth> | undefined;
}

export function normaliseStats(at: string, v: unknown): NormalStats | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null)
    throw new ProxyConfigError(at, v, 'must be { uri: "/web-status" }');
  for (const k of Object.keys(v))
    if (k !== "uri" && k !== "refresh" && k !== "auth")
      throw new ProxyConfigError(`${at}.${k}`, k, "is not an option (known: uri, refresh, auth)");
  const o = v as StatsOption;
  if (typeof o.uri !== "string" || !/^\/[\x21-\x7e]*$/.test(o.uri) || /[?;#]/.test(o.uri))
    throw new ProxyConfigError(`${at}.uri`, o.uri, "must be a path starting with / (no spaces, ?, ; or #)");
  const refresh = o.refresh ?? 5;
  if (!Number.isInteger(refresh) || refresh < 0 || refresh > 3600)
    throw new ProxyConfigError(`${at}.refresh`, refresh, "must be whole seconds 0..3600");
  let creds: NormalStats["creds"];
  if (o.auth !== undefined) {
    if (typeof o.auth !== "object" || o.auth === null)
      throw new ProxyConfigError(
        `${at}.auth`,
        o.auth,
        "must be { users?: { name: password }, tokens?: { name: token } }",
      );
    for (const k of Object.keys(o.auth))
      if (k !== "users" && k !== "tokens")
        throw new ProxyConfigError(`${at}.auth.${k}`, k, "is not an option (known: users, tokens)");
    for (const c of Object.values({ ...o.auth.users, ...o.auth.tokens }))
      if (typeof c !== "string" || c.length < 8)
        throw new ProxyConfigError(
          `${at}.auth`,
          "<redacted>",
          "each password or token must be a string of 8+ characters",
        );
    creds = compileAuth(o.auth);
    if (creds.length === 0)
      throw new ProxyConfigError(`${at}.auth`, o.auth, "needs at least one user or token");
  }
  return { uri: o.uri, refresh, creds };
}

/** Which rendering `path` asks for under `uri`, or undefined when it is not the stats page. */
export function statsFormat(uri: string, path: string): "html" | "csv" | "json" | undefined {
  if (!path.startsWith(uri)) return undefined;
  const rest = path.slice(uri.length);
  if (rest === "" || rest === "/") return "html";
  if (rest === ";csv") return "csv";
  if (rest === ";json") return "json";
  return undefined;
}

/** The whole HTTP/1.1 response for the stats page. */
export function statsResponse(
  snap: StatsSnapshot,
  option: NormalStats,
  format: "html" | "csv" | "json",
  head: boolean,
  close: boolean,
): Buffer {
  const body =
    format === "csv"
      ? renderCsv(snap)
      : format === "json"
        ? renderJson(snap)
        : renderHtml(snap, {
            refresh: option.refresh,
            csvHref: `${option.uri};csv`,
            jsonHref: `${option.uri};json`,
          });
  const type =
    format === "csv"
      ? "text/plain; charset=utf-8"
      : format === "json"
        ? "application/json"
        : "text/html; charset=utf-8";
  const b = Buffer.from(body);
  const h =
    `HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ncontent-length: ${b.length}\r\ncache-control: no-cache\r\n` +
    `${close ? "connection: close\r\n" : ""}\r\n`;
  return head ? Buffer.from(h, "latin1") : Buffer.concat([Buffer.from(h, "latin1"), b]);
}

const UNAUTHORIZED = (close: boolean) =>
  Buffer.from(
    `HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\ncontent-length: 23\r\n` +
      `www-authenticate: Basic realm="lbkit statistics", charset="UTF-8"\r\ncache-control: no-cache\r\n` +
      `${close ? "connection: close\r\n" : ""}\r\nauthentication required`,
    "latin1",
  );

/** The frontend's answer to `req` when it is for the stats page (401 without valid credentials), else undefined. */
export function statsAnswer(
  option: NormalStats,
  req: RequestHead,
  close: boolean,
  snapshot: () => StatsSnapshot,
): { status: number; bytes: Buffer } | undefined {
  const format = statsFormat(option.uri, req.path);
  if (!format) return undefined;
  if (option.creds && authenticate(option.creds, req.get("authorization")) === undefined) {
    const b = UNAUTHORIZED(close);
    return { status: 401, bytes: req.method === "HEAD" ? b.subarray(0, b.length - 23) : b };
  }
  return { status: 200, bytes: statsResponse(snapshot(), option, format, req.method === "HEAD", close) };
}
