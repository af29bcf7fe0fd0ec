/**
 * HTTP/1.1 → HTTP/2 on the way back (pure): a response head (final or 1xx) as an HTTP/2 header block, with the
 * same header rules the HTTP/1.1 path serialises (`http-response` set/add/del-header and the persistence cookie
 * lines: `HeaderRules` from l7-local / persistence), and chunked trailer lines as HTTP/2 trailers. Hop-by-hop
 * fields (RFC 9113 §8.2.2), including those the Connection field names, never cross.
 */
import type http2 from "node:http2";
import type { HeaderRules } from "../http/forward.js";
import type { ResponseHead } from "../http/types.js";
import { NOT_IN_TRAILERS } from "./request.js";

const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);

function add(out: http2.OutgoingHttpHeaders, name: string, value: string): void {
  const prev = out[name];
  out[name] = prev === undefined ? value : ([] as string[]).concat(prev as string, value);
}

/** The fields `lines` ("Name: value\r\n"…, pre-encoded header rules or trailer lines) hold, lower-cased names. */
function* fieldsOf(lines: string): Generator<[string, string]> {
  for (const line of lines.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    yield [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  }
}

/** The HTTP/2 header block of `head` (`:status` first), after `rules` (drop, then set/add lines). */
export function h2ResponseHeaders(head: ResponseHead, rules?: HeaderRules): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ":status": head.status };
  const h = head.headers;
  const connection = head.getAll("connection");
  const named =
    connection.length === 0
      ? undefined
      : new Set(connection.flatMap((c) => c.split(",").map((t) => t.trim().toLowerCase())));
  const drop = rules?.drop;
  for (let i = 0; i < h.length; i += 2) {
    const name = (h[i] as string).toLowerCase();
    if (HOP.has(name) || named?.has(name) || drop?.includes(name)) continue;
    add(out, name, h[i + 1] as string);
  }
  if (rules?.lines) for (const [n, v] of fieldsOf(rules.lines)) if (!HOP.has(n)) add(out, n, v);
  return out;
}

/** A chunked body's trailer section (the lines after the last chunk) as HTTP/2 trailers; forbidden fields dropped. */
export function h2Trailers(lines: string): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [n, v] of fieldsOf(lines))
    if (!NOT_IN_TRAILERS.has(n) && /^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(n)) add(out, n, v);
  return out;
}
