/** Header sources: Node's IncomingHttpHeaders (lower-case keys) or anything with `get(name)` (Fetch Headers). */
export type HeaderSource =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null | undefined };

/**
 * What a request offers to the algorithms that look at it. All optional; each algorithm reads what it needs.
 * `pick()` never throws on a bad context: a context that is not an object counts as empty, and a field of the
 * wrong type (`source: 42`, `uri: {}`) counts as absent — the request is then balanced as one without that key
 * (round-robin for the hash algorithms, as HAProxy does for a missing header or parameter).
 */
export interface PickContext {
  /** Key for `hash()` and the consistent-hashing algorithms. */
  key?: string;
  /** Client address, for `source`. A trailing port (`1.2.3.4:5678`, `[::1]:80`) is ignored. */
  source?: string;
  /** The request target (`/path?query`, or an absolute URI), for `uri` and `url_param`. */
  uri?: string;
  headers?: HeaderSource;
  /** Parsed cookies; if absent, the `cookie` header is parsed. */
  cookies?: Readonly<Record<string, string>>;
  /** For `rdp-cookie`: the cookie value, or the first bytes of the RDP connection request to parse it from. */
  rdp?: string | Uint8Array;
}

export const EMPTY_CONTEXT: PickContext = Object.freeze({});

/** The context as given when it is an object, else the empty one. */
export function contextOf(ctx: unknown): PickContext {
  return typeof ctx === "object" && ctx !== null ? (ctx as PickContext) : EMPTY_CONTEXT;
}

/** A context field that must be a string: anything else counts as absent. */
export function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function header(ctx: PickContext, name: string): string | undefined {
  const h: unknown = ctx.headers;
  if (typeof h !== "object" || h === null) return undefined;
  const lower = name.toLowerCase();
  if (typeof (h as { get?: unknown }).get === "function") {
    return text((h as { get(n: string): unknown }).get(lower));
  }
  const v = (h as Record<string, unknown>)[lower];
  if (typeof v === "string") return v;
  if (!Array.isArray(v)) return undefined;
  // repeated headers fold with ", ", except Cookie, whose pairs are separated by "; "
  const parts = v.filter((x): x is string => typeof x === "string");
  return parts.length ? parts.join(lower === "cookie" ? "; " : ", ") : undefined;
}

export function cookie(ctx: PickContext, name: string): string | undefined {
  const cookies: unknown = ctx.cookies;
  if (typeof cookies === "object" && cookies !== null) {
    const v = (cookies as Record<string, unknown>)[name];
    return Object.hasOwn(cookies, name) ? text(v) : undefined;
  }
  const raw = header(ctx, "cookie");
  if (!raw) return undefined;
  for (const part of raw.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
