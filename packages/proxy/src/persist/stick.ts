/**
 * `stick on <key>` (pure): the configuration of a backend's stick table and the key a request or session is
 * stuck by — the client address (`src`), a header (`hdr(<name>)`), a cookie (`cookie(<name>)`), a query
 * parameter (`url_param(<name>)`), or any function of the request facts.
 */
import { ProxyConfigError } from "../errors.js";
import { queryParam, type RequestFacts } from "../route.js";

export type StickOn = "src" | `hdr(${string})` | `cookie(${string})` | `url_param(${string})` | StickKeyFn;
export type StickKeyFn = (facts: RequestFacts) => string | undefined;

export interface StickOptions {
  /** What identifies a client. Default "src". L4 backends can only stick on "src". */
  on?: StickOn;
  /** Entries kept at most (HAProxy `size`). Default 100000. */
  size?: number;
  /** Ms an entry lives after its last use (HAProxy `expire`). Default 1800000 (30 min). */
  expire?: number;
}

export interface NormalStick {
  key: StickKeyFn;
  /** For error messages and the peers protocol. */
  on: string;
  size: number;
  expire: number;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

export function normaliseStick(option: string, v: StickOptions, mode: "http" | "tcp"): NormalStick {
  if (typeof v !== "object" || v === null)
    throw new ProxyConfigError(option, v, 'must be { on?: "src" | "hdr(name)" | …, size?, expire? }');
  for (const k of Object.keys(v))
    if (!["on", "size", "expire"].includes(k))
      throw new ProxyConfigError(`${option}.${k}`, k, "is not an option (known: on, size, expire)");
  const on = v.on ?? "src";
  const size = v.size ?? 100_000;
  const expire = v.expire ?? 1_800_000;
  if (!Number.isInteger(size) || size < 1 || size > 100_000_000)
    throw new ProxyConfigError(`${option}.size`, size, "must be an integer in 1..100000000");
  if (!Number.isInteger(expire) || expire < 1 || expire > 86_400_000 * 365)
    throw new ProxyConfigError(`${option}.expire`, expire, "must be milliseconds, at least 1");
  const base = { size, expire };
  if (typeof on === "function") {
    if (mode === "tcp") throw new ProxyConfigError(`${option}.on`, on, 'must be "src" in a tcp backend');
    return { ...base, on: "fn", key: on };
  }
  if (on === "src") return { ...base, on, key: (f) => f.source || undefined };
  const m =
    typeof on === "string" ? /^(hdr|cookie|url_param)\(([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\)$/.exec(on) : null;
  if (!m || mode === "tcp")
    throw new ProxyConfigError(
      `${option}.on`,
      on,
      mode === "tcp"
        ? 'must be "src" in a tcp backend'
        : 'must be "src", "hdr(<name>)", "cookie(<name>)", "url_param(<name>)" or a function',
    );
  const name = m[2] as string;
  const lower = name.toLowerCase();
  const key: StickKeyFn =
    m[1] === "hdr"
      ? (f) => f.header?.(lower) || undefined
      : m[1] === "cookie"
        ? (f) => cookieValue(f.header?.("cookie"), name)
        : (f) => queryParam(f.query, name) || undefined;
  return { ...base, on, key };
}
