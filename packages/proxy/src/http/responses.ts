/**
 * Canned responses the proxy answers itself (errors, refusals), pre-encoded once: a small text body, its
 * Content-Length, `Cache-Control: no-cache`, and `Connection: close` or `keep-alive`.
 */

import { Buffer } from "node:buffer";
export const CANNED_STATUSES = [
  400, 403, 404, 405, 408, 413, 414, 417, 421, 431, 500, 501, 502, 503, 504, 505,
] as const;
export type CannedStatus = (typeof CANNED_STATUSES)[number];

const REASONS: Record<CannedStatus, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  417: "Expectation Failed",
  421: "Misdirected Request",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

function encode(status: CannedStatus, close: boolean): Buffer {
  const reason = REASONS[status];
  const body = `${status} ${reason}\n`;
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
      `Cache-Control: no-cache\r\nConnection: ${close ? "close" : "keep-alive"}\r\n\r\n${body}`,
    "latin1",
  );
}

const closing = new Map<number, Buffer>();
const keeping = new Map<number, Buffer>();
for (const s of CANNED_STATUSES) {
  closing.set(s, encode(s, true));
  keeping.set(s, encode(s, false));
}

/**
 * The pre-encoded response for `status` (the same Buffer every call: write it, never modify it). `close`
 * says whether it ends the connection (`Connection: close`) or keeps it (`Connection: keep-alive`).
 */
export function cannedResponse(status: CannedStatus, close: boolean): Buffer {
  return (close ? closing : keeping).get(status)!;
}

/** The body-less variant for a HEAD request is the head part of the same bytes. */
export function cannedHeadLength(status: CannedStatus, close: boolean): number {
  const b = cannedResponse(status, close);
  return b.indexOf("\r\n\r\n") + 4;
}
