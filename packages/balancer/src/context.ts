/** Header sources: Node's IncomingHttpHeaders (lower-case keys) or anything with `get(name)` (Fetch Headers). */
export type HeaderSource =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null | undefined };

/** What a request offers to the algorithms that look at it. All optional; each algorithm reads what it needs. */
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

export function header(ctx: PickContext, name: string): string | undefined {
  const h = ctx.headers;
  if (!h) return undefined;
  const lower = name.toLowerCase();
  if (typeof (h as { get?: unknown }).get === "function") {
    return (h as { get(n: string): string | null | undefined }).get(lower) ?? undefined;
  }
  const v = (h as Record<string, string | readonly string[] | undefined>)[lower];
  if (v === undefined) return undefined;
  // repeated headers fold with ", ", except Cookie, whose pairs are separated by "; "
  return typeof v === "string" ? v : v.join(lower === "cookie" ? "; " : ", ");
}

export function cookie(ctx: PickContext, name: string): string | undefined {
  if (ctx.cookies) return ctx.cookies[name];
  const raw = header(ctx, "cookie");
  if (!raw) return undefined;
  for (const part of raw.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
