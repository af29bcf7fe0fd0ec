/**
 * Cookie persistence (HAProxy `cookie <name> insert|prefix|rewrite [indirect] [nocache] [httponly] [secure]
 * [maxidle] [maxlife] [domain]`), pure: the configuration and its validation, what a request's Cookie header says
 * (which server, still valid?), the Cookie line forwarded in its place, and the Set-Cookie / Cache-Control lines a
 * response gets. The L7 shell asks and applies; the balancer's persistence picks the named server while it is up
 * or draining, else the request is balanced (and, with insert, re-stuck) as a new one.
 *
 * Insert values are `<server>` or, with maxidle/maxlife, `<server>|<last-seen>|<first-seen>` (seconds since the
 * epoch in base 32, HAProxy's layout); prefix values are `<server>~<application value>`.
 */
import { ProxyConfigError } from "../errors.js";

export interface CookieOptions {
  /** The cookie's name, e.g. "SERVERID". */
  name: string;
  /** Default "insert". */
  mode?: "insert" | "prefix" | "rewrite";
  /** insert: the cookie is removed from requests before they reach the server (HAProxy `indirect`). */
  indirect?: boolean;
  /** Responses that set the cookie get `Cache-Control: private` (HAProxy `nocache`). */
  nocache?: boolean;
  httponly?: boolean;
  secure?: boolean;
  /** insert: a cookie not seen for this long (ms) is ignored, and refreshed while in use. */
  maxidle?: number;
  /** insert: a cookie first set this long ago (ms) is ignored. */
  maxlife?: number;
  domain?: string;
  /** Default "/". */
  path?: string;
}

export type NormalCookie = Required<Omit<CookieOptions, "domain" | "maxidle" | "maxlife">> & {
  domain: string | undefined;
  /** seconds, 0 = none */
  maxidle: number;
  maxlife: number;
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ATTR = /^[\x21-\x3a\x3c-\x7e]+$/; // visible, no ';'

export function normaliseCookie(option: string, v: CookieOptions): NormalCookie {
  if (typeof v !== "object" || v === null)
    throw new ProxyConfigError(
      option,
      v,
      'must be { name: "SERVERID", mode?: "insert" | "prefix" | "rewrite", … }',
    );
  const keys = [
    "name",
    "mode",
    "indirect",
    "nocache",
    "httponly",
    "secure",
    "maxidle",
    "maxlife",
    "domain",
    "path",
  ];
  for (const k of Object.keys(v))
    if (!keys.includes(k))
      throw new ProxyConfigError(`${option}.${k}`, k, `is not an option (known: ${keys.join(", ")})`);
  if (typeof v.name !== "string" || !TOKEN.test(v.name))
    throw new ProxyConfigError(`${option}.name`, v.name, "must be a cookie name (token characters)");
  const mode = v.mode ?? "insert";
  if (!["insert", "prefix", "rewrite"].includes(mode))
    throw new ProxyConfigError(`${option}.mode`, mode, 'must be "insert", "prefix" or "rewrite"');
  const secs = (k: "maxidle" | "maxlife") => {
    const x = v[k];
    if (x === undefined) return 0;
    if (mode !== "insert") throw new ProxyConfigError(`${option}.${k}`, x, "applies to insert mode only");
    if (typeof x !== "number" || !Number.isInteger(x) || x < 1000 || x > 10 * 365 * 86_400_000)
      throw new ProxyConfigError(
        `${option}.${k}`,
        x,
        "must be milliseconds, at least 1000 (whole seconds count)",
      );
    return Math.floor(x / 1000);
  };
  for (const k of ["domain", "path"] as const)
    if (v[k] !== undefined && (typeof v[k] !== "string" || !ATTR.test(v[k] as string)))
      throw new ProxyConfigError(`${option}.${k}`, v[k], "must be visible characters without ';' or spaces");
  if (v.indirect && mode !== "insert")
    throw new ProxyConfigError(`${option}.indirect`, v.indirect, "applies to insert mode only");
  return {
    name: v.name,
    mode,
    indirect: v.indirect === true,
    nocache: v.nocache === true,
    httponly: v.httponly === true,
    secure: v.secure === true,
    maxidle: secs("maxidle"),
    maxlife: secs("maxlife"),
    domain: v.domain,
    path: v.path ?? "/",
  };
}

/** What the request's cookie says. */
export interface CookieRead {
  /** The server cookie value it names, when present and still valid. */
  server: string | undefined;
  /** insert with dates: when it was first set (s), to keep across refreshes; 0 if unknown. */
  first: number;
  /** insert with dates: when it was last refreshed (s); 0 if unknown. */
  last: number;
  /**
   * The Cookie header to forward instead of the received one(s): undefined = forward unchanged, "" = drop it
   * (nothing left), else the new value.
   */
  forward: string | undefined;
}

const b32 = (n: number) => n.toString(32).toUpperCase();
const unb32 = (s: string) => (/^[0-9A-V]{1,8}$/i.test(s) ? Number.parseInt(s, 32) : Number.NaN);

/** Reads the persistence cookie from the request's Cookie fields (pure; `now` in ms). */
export function readCookie(cfg: NormalCookie, cookieFields: readonly string[], now: number): CookieRead {
  const out: CookieRead = { server: undefined, first: 0, last: 0, forward: undefined };
  if (cookieFields.length === 0) return out;
  const pairs: string[] = [];
  let found = false;
  let changed = false;
  for (const field of cookieFields)
    for (const part of field.split(";")) {
      const p = part.trim();
      if (p === "") continue;
      const eq = p.indexOf("=");
      const name = eq < 0 ? p : p.slice(0, eq);
      if (name !== cfg.name || found) {
        pairs.push(p);
        continue;
      }
      found = true;
      const value = p.slice(eq + 1);
      if (cfg.mode === "prefix") {
        const tilde = value.indexOf("~");
        if (tilde > 0) {
          out.server = value.slice(0, tilde);
          pairs.push(`${name}=${value.slice(tilde + 1)}`);
          changed = true;
        } else pairs.push(p);
        continue;
      }
      if (cfg.mode === "insert" && cfg.indirect) changed = true;
      else pairs.push(p);
      const [server, last, first] = value.split("|");
      if (!server) continue;
      if (cfg.maxidle > 0 || cfg.maxlife > 0) {
        const l = unb32(last ?? "");
        const f = unb32(first ?? "");
        const s = Math.floor(now / 1000);
        if (!Number.isFinite(l) || !Number.isFinite(f)) continue; // an undated cookie expires when dates are on
        if (cfg.maxidle > 0 && s - l > cfg.maxidle) continue;
        if (cfg.maxlife > 0 && s - f > cfg.maxlife) continue;
        out.last = l;
        out.first = f;
      }
      out.server = server;
    }
  if (changed) out.forward = pairs.join("; ");
  return out;
}

/**
 * The header lines a response gets for the request that `read` described, now served by the server whose
 * cookie value is `server`: Set-Cookie for insert (when the request did not carry this server's valid cookie,
 * or maxidle asks for a refresh), the server's own Set-Cookie rewritten for prefix/rewrite (`drop` says the
 * received Set-Cookie fields are replaced by `lines`), and `Cache-Control: private` with nocache.
 */
export function responseCookies(
  cfg: NormalCookie,
  read: CookieRead,
  server: string,
  setCookies: readonly string[],
  now: number,
): { drop: boolean; lines: string } {
  const none = { drop: false, lines: "" };
  if (cfg.mode === "insert") {
    const s = Math.floor(now / 1000);
    const dated = cfg.maxidle > 0 || cfg.maxlife > 0;
    const fresh =
      read.server === server && (!dated || cfg.maxidle === 0 || s - read.last < Math.max(1, cfg.maxidle / 4));
    if (fresh) return none;
    const first = read.server === server && read.first > 0 ? read.first : s;
    const value = dated ? `${server}|${b32(s)}|${b32(first)}` : server;
    return { drop: false, lines: `Set-Cookie: ${cfg.name}=${value}${attributes(cfg)}\r\n${nocache(cfg)}` };
  }
  let lines = "";
  let touched = false;
  for (const sc of setCookies) {
    const eq = sc.indexOf("=");
    if (eq > 0 && sc.slice(0, eq).trim() === cfg.name) {
      touched = true;
      const semi = sc.indexOf(";", eq);
      const rest = semi < 0 ? "" : sc.slice(semi);
      const value = (semi < 0 ? sc.slice(eq + 1) : sc.slice(eq + 1, semi)).trim();
      lines += `Set-Cookie: ${cfg.name}=${cfg.mode === "prefix" ? `${server}~${value}` : server}${rest}\r\n`;
    } else lines += `Set-Cookie: ${sc}\r\n`;
  }
  return touched ? { drop: true, lines: lines + nocache(cfg) } : none;
}

function attributes(cfg: NormalCookie): string {
  let a = `; path=${cfg.path}`;
  if (cfg.domain) a += `; domain=${cfg.domain}`;
  if (cfg.httponly) a += "; HttpOnly";
  if (cfg.secure) a += "; Secure";
  return a;
}

function nocache(cfg: NormalCookie): string {
  return cfg.nocache ? "Cache-Control: private\r\n" : "";
}
