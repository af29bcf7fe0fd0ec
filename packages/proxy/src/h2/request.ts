/**
 * An HTTP/2 request as HTTP/1.1 (pure), for servers that speak HTTP/1.1. RFC 9113 §8.2–8.3 are checked
 * here, before anything is forwarded, so an HTTP/2 client cannot smuggle through the downgrade: field names are
 * lower-case tokens, no value holds CR, LF or NUL or starts/ends with whitespace, the pseudo-headers are exactly
 * :method :scheme :path (:authority optional) with no others and nothing after regular fields, connection-specific
 * fields (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, and TE other than "trailers") are
 * refused, Content-Length is one decimal number. The result is then parsed by the strict HTTP/1.1 head parser
 * like any request, and the shell checks that the DATA frames add up to Content-Length.
 */

import { Buffer } from "node:buffer";
export type H2Request =
  | { ok: true; head: Buffer; contentLength: number | undefined; chunked: boolean }
  | { ok: false; reason: string };

const TOKEN_LC = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Fields a trailer section must not carry (RFC 9110 §6.5.1): framing, routing, authentication, the connection's
 * own. They are dropped from trailers both ways.
 */
export const NOT_IN_TRAILERS: ReadonlySet<string> = new Set([
  ...CONNECTION_SPECIFIC,
  "te",
  "trailer",
  "content-length",
  "content-type",
  "host",
  "authorization",
  "set-cookie",
]);

function badValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0xff) return true;
  }
  return v.length > 0 && (v[0] === " " || v[0] === "\t" || v.endsWith(" ") || v.endsWith("\t"));
}

/**
 * `raw` is the header list in wire order, `[name0, value0, name1, value1, …]` (node:http2's `rawHeaders`).
 * `endStream`: the HEADERS frame ended the stream (no body).
 */
export function h2ToHttp1(raw: readonly string[], endStream: boolean): H2Request {
  let method: string | undefined;
  let scheme: string | undefined;
  let path: string | undefined;
  let authority: string | undefined;
  let regular = false;
  let contentLength: number | undefined;
  let host: string | undefined;
  const cookies: string[] = [];
  let lines = "";
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (badValue(value))
      return { ok: false, reason: `field ${name} has CR, LF, NUL or surrounding whitespace` };
    if (name.startsWith(":")) {
      if (regular) return { ok: false, reason: `pseudo-header ${name} after a regular field` };
      const dup = () => ({ ok: false as const, reason: `duplicate ${name}` });
      switch (name) {
        case ":method":
          if (method !== undefined) return dup();
          method = value;
          break;
        case ":scheme":
          if (scheme !== undefined) return dup();
          scheme = value;
          break;
        case ":path":
          if (path !== undefined) return dup();
          path = value;
          break;
        case ":authority":
          if (authority !== undefined) return dup();
          authority = value;
          break;
        default:
          return { ok: false, reason: `unknown pseudo-header ${name}` };
      }
      continue;
    }
    regular = true;
    if (!TOKEN_LC.test(name))
      return { ok: false, reason: `field name ${JSON.stringify(name)} is not a lower-case token` };
    if (CONNECTION_SPECIFIC.has(name)) return { ok: false, reason: `connection-specific field ${name}` };
    if (name === "te") {
      if (value !== "trailers") return { ok: false, reason: 'TE other than "trailers"' };
      continue; // hop-by-hop in HTTP/1.1: not forwarded
    }
    if (name === "content-length") {
      if (!/^\d{1,15}$/.test(value) || (contentLength !== undefined && contentLength !== Number(value)))
        return { ok: false, reason: "invalid or conflicting content-length" };
      if (contentLength !== undefined) continue;
      contentLength = Number(value);
    }
    if (name === "host") {
      if (host !== undefined) return { ok: false, reason: "duplicate host" };
      host = value;
      continue;
    }
    if (name === "cookie") {
      cookies.push(value); // RFC 9113 §8.2.3: crumbs are joined with "; " for HTTP/1.1
      continue;
    }
    lines += `${name}: ${value}\r\n`;
  }
  if (method === undefined || scheme === undefined || path === undefined)
    return { ok: false, reason: "missing :method, :scheme or :path" };
  if (method === "CONNECT") return { ok: false, reason: "CONNECT is not proxied over HTTP/2" };
  if (!TOKEN_LC.test(method.toLowerCase())) return { ok: false, reason: "invalid :method" };
  if (scheme !== "https" && scheme !== "http") return { ok: false, reason: "invalid :scheme" };
  if (path === "" || (path[0] !== "/" && !(path === "*" && method === "OPTIONS")) || /[\s#]/.test(path))
    return { ok: false, reason: "invalid :path" };
  const h = authority ?? host;
  if (h === undefined || h === "") return { ok: false, reason: "missing :authority and host" };
  if (authority !== undefined && host !== undefined && host !== authority)
    return { ok: false, reason: "host differs from :authority" };
  const chunked = !endStream && contentLength === undefined;
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${h}\r\n${lines}`;
  if (cookies.length > 0) head += `cookie: ${cookies.join("; ")}\r\n`;
  if (chunked) head += "transfer-encoding: chunked\r\n";
  head += "\r\n";
  return { ok: true, head: Buffer.from(head, "latin1"), contentLength, chunked };
}

/**
 * An HTTP/2 trailer section (`raw` in wire order) as the HTTP/1.1 trailer lines after the last chunk
 * ("name: value\r\n"…); fields not allowed in trailers are dropped. A pseudo-header, a name that is not a
 * lower-case token, or a value with CR, LF or NUL makes the stream malformed (RFC 9113 §8.1): `ok: false`.
 */
export function http1Trailers(
  raw: readonly string[],
): { ok: true; lines: string } | { ok: false; reason: string } {
  let lines = "";
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (name.startsWith(":")) return { ok: false, reason: `pseudo-header ${name} in trailers` };
    if (!TOKEN_LC.test(name))
      return { ok: false, reason: `trailer name ${JSON.stringify(name)} is not a lower-case token` };
    if (badValue(value))
      return { ok: false, reason: `trailer ${name} has CR, LF, NUL or surrounding whitespace` };
    if (!NOT_IN_TRAILERS.has(name)) lines += `${name}: ${value}\r\n`;
  }
  return { ok: true, lines };
}
