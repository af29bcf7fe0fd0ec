import { header, type PickContext, text } from "../context.js";

/** Extracts the hash key from a request; undefined when the request has none (the algorithm then rotates). */
export type KeyFn = (ctx: PickContext) => string | undefined;

/** The generic key: `ctx.key`. */
export const contextKey: KeyFn = (ctx) => text(ctx.key);

/** HAProxy `source`: the client address, without a port. */
export const sourceKey: KeyFn = (ctx) => {
  const s = text(ctx.source);
  if (s === undefined) return undefined;
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    return end > 0 ? s.slice(1, end) : s;
  }
  const colon = s.indexOf(":");
  // one colon: IPv4 with a port; more than one: a bare IPv6 address
  return colon >= 0 && colon === s.lastIndexOf(":") ? s.slice(0, colon) : s;
};

export interface UriKeyOptions {
  /** Hash the whole URI, query string included (default: the part before `?`). */
  whole?: boolean;
  /** Only this many directory levels (each `/` is one level); 0 = all. */
  depth?: number;
  /** Only the first `len` characters; 0 = all. */
  len?: number;
  /** For absolute URIs, drop scheme and authority and hash the path only. */
  pathOnly?: boolean;
}

/** HAProxy `uri [len <n>] [depth <n>] [whole] [path-only]`. */
export function uriKey(options: UriKeyOptions = {}): KeyFn {
  const { whole = false, depth = 0, len = 0, pathOnly = false } = options;
  return (ctx) => {
    let uri = text(ctx.uri);
    if (uri === undefined) return undefined;
    if (pathOnly && !uri.startsWith("/")) {
      const scheme = uri.indexOf("://");
      if (scheme >= 0) {
        const slash = uri.indexOf("/", scheme + 3);
        uri = slash >= 0 ? uri.slice(slash) : "/";
      }
    }
    if (!whole) {
      const q = uri.indexOf("?");
      if (q >= 0) uri = uri.slice(0, q);
    }
    if (depth > 0) {
      let slashes = 0;
      for (let i = 0; i < uri.length; i++) {
        if (uri.charCodeAt(i) === 47 /* / */ && ++slashes > depth) {
          uri = uri.slice(0, i);
          break;
        }
      }
    }
    if (len > 0 && uri.length > len) uri = uri.slice(0, len);
    return uri;
  };
}

/** HAProxy `url_param(<name>)`: the value of a query-string parameter. */
export function urlParamKey(name: string): KeyFn {
  return (ctx) => {
    const uri = text(ctx.uri);
    if (uri === undefined) return undefined;
    const q = uri.indexOf("?");
    if (q < 0) return undefined;
    const end = uri.indexOf("#", q);
    const query = uri.slice(q + 1, end < 0 ? undefined : end);
    for (const pair of query.split("&")) {
      const eq = pair.indexOf("=");
      if (eq >= 0 && pair.slice(0, eq) === name) return pair.slice(eq + 1);
    }
    return undefined;
  };
}

export interface HdrKeyOptions {
  /** HAProxy `hdr(host) use_domain_only`: hash only the domain part (`www.example.com:8080` → `example`). */
  useDomainOnly?: boolean;
}

/** HAProxy `hdr(<name>)`: the value of a request header. */
export function hdrKey(name: string, options: HdrKeyOptions = {}): KeyFn {
  return (ctx) => {
    const value = header(ctx, name);
    if (value === undefined || value === "") return undefined;
    return options.useDomainOnly ? domainOnly(value) : value;
  };
}

function domainOnly(host: string): string {
  const colon = host.lastIndexOf(":");
  if (colon > 0 && !host.includes("]")) host = host.slice(0, colon);
  const labels = host.split(".");
  // the label left of the TLD, as HAProxy: "www.example.com" -> "example"
  return labels.length >= 2 ? labels[labels.length - 2]! : host;
}

/** HAProxy `rdp-cookie(<name>)`: the `Cookie: <name>=<value>` line of an RDP connection request. */
export function rdpCookieKey(name = "mstshash"): KeyFn {
  const marker = `Cookie: ${name}=`;
  return (ctx) => {
    const rdp: unknown = ctx.rdp;
    if (typeof rdp === "string") return rdp;
    if (!(rdp instanceof Uint8Array)) return undefined;
    let text = "";
    for (let i = 0; i < rdp.length; i++) text += String.fromCharCode(rdp[i]!);
    const at = text.indexOf(marker);
    if (at < 0) return undefined;
    const start = at + marker.length;
    const end = text.indexOf("\r\n", start);
    return end < 0 ? undefined : text.slice(start, end);
  };
}
