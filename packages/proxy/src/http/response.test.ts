import { describe, expect, it } from "vitest";
import { parseResponseHead } from "./response.js";
import { DEFAULT_HEAD_LIMITS, newHeadScan } from "./scan.js";
import type { ResponseContext, ResponseHead } from "./types.js";

const GET: ResponseContext = { method: "GET" };
const parse = (raw: string, req: ResponseContext = GET) =>
  parseResponseHead(Buffer.from(raw, "latin1"), DEFAULT_HEAD_LIMITS, req);

type Vector = [string, string, number | "ok" | "incomplete", ((h: ResponseHead) => void)?, ResponseContext?];

const framing = (kind: string, n?: number) => (h: ResponseHead) =>
  expect(h.framing).toEqual(n === undefined ? { kind } : { kind, n });

const vectors: Vector[] = [
  [
    "200 with Content-Length",
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
    "ok",
    (h) => {
      framing("length", 5)(h);
      expect(h.status).toBe(200);
      expect(h.reason).toBe("OK");
      expect(h.keepAlive).toBe(true);
    },
  ],
  ["200 chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "ok", framing("chunked")],
  [
    "200 without length reads until close",
    "HTTP/1.1 200 OK\r\n\r\n",
    "ok",
    (h) => {
      framing("until-close")(h);
      expect(h.keepAlive).toBe(false);
    },
  ],
  [
    "status line without reason or SP",
    "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
    "ok",
    (h) => expect(h.reason).toBe(""),
  ],
  ["status line with empty reason", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "ok"],
  ["reason with obs-text", "HTTP/1.1 200 Tr\xe8s bien\r\nContent-Length: 0\r\n\r\n", "ok"],
  ["reason with NUL", "HTTP/1.1 200 O\0K\r\nContent-Length: 0\r\n\r\n", 502],
  ["two-digit status", "HTTP/1.1 20 OK\r\n\r\n", 502],
  ["four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", 502],
  ["status 600", "HTTP/1.1 600 X\r\nContent-Length: 0\r\n\r\n", 502],
  ["status 099", "HTTP/1.1 099 X\r\n\r\n", 502],
  ["lowercase http", "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 502],
  ["HTTP/1.2 status line", "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", 502],
  ["HTTP/2.0 status line", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", 502],
  ["double space after version", "HTTP/1.1  200 OK\r\n\r\n", 502],
  ["garbage start line", "hello\r\n\r\n", 502],
  ["leading empty line", "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 502],
  [
    "HTTP/1.0 close by default",
    "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n",
    "ok",
    (h) => expect(h.keepAlive).toBe(false),
  ],
  [
    "HTTP/1.0 keep-alive",
    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n",
    "ok",
    (h) => expect(h.keepAlive).toBe(true),
  ],
  [
    "HTTP/1.1 close",
    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
    "ok",
    (h) => expect(h.keepAlive).toBe(false),
  ],
  ["TE and CL together", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 502],
  ["TE on HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 502],
  ["TE gzip only", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 502],
  ["TE gzip, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 502],
  ["TE xchunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n", 502],
  [
    "TE chunked twice",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    502,
  ],
  ["CL duplicate", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 502],
  ["CL list", "HTTP/1.1 200 OK\r\nContent-Length: 5,5\r\n\r\n", 502],
  ["CL with +", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", 502],
  ["CL overflow", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", 502],
  ["obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", 502],
  ["space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", 502],
  ["NUL in value", "HTTP/1.1 200 OK\r\nX: a\0\r\nContent-Length: 0\r\n\r\n", 502],
  ["bare LF line ending", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", 502],
  ["bare CR in value", "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n", 502],
  ["invalid field name", "HTTP/1.1 200 OK\r\nX Y: 1\r\nContent-Length: 0\r\n\r\n", 502],
  ["incomplete", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", "incomplete"],
  // framing by request method and status (RFC 9112 §6.3)
  [
    "HEAD response with CL has no body",
    "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n",
    "ok",
    framing("none"),
    {
      method: "HEAD",
    },
  ],
  [
    "HEAD response chunked has no body",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    "ok",
    framing("none"),
    {
      method: "HEAD",
    },
  ],
  [
    "204 has no body",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "ok",
    (h) => {
      framing("none")(h);
      expect(h.keepAlive).toBe(true);
    },
  ],
  [
    "204 with Content-Length: 0 tolerated",
    "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
    "ok",
    framing("none"),
  ],
  ["204 with TE", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", 502],
  [
    "304 with CL has no body",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n",
    "ok",
    framing("none"),
  ],
  [
    "100 Continue is informational",
    "HTTP/1.1 100 Continue\r\n\r\n",
    "ok",
    (h) => {
      framing("none")(h);
      expect(h.informational).toBe(true);
    },
  ],
  [
    "103 Early Hints",
    "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n",
    "ok",
    (h) => expect(h.informational).toBe(true),
  ],
  ["1xx with TE", "HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n", 502],
  [
    "101 to an upgrade request",
    "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
    "ok",
    (h) => {
      framing("tunnel")(h);
      expect(h.upgrade).toBe("websocket");
      expect(h.informational).toBe(false);
    },
    { method: "GET", upgrade: "websocket" },
  ],
  ["101 nobody asked for", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 502],
  [
    "2xx to CONNECT is a tunnel",
    "HTTP/1.1 200 Connection established\r\n\r\n",
    "ok",
    framing("tunnel"),
    {
      method: "CONNECT",
    },
  ],
  [
    "407 to CONNECT has a body",
    "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 3\r\n\r\n",
    "ok",
    framing("length", 3),
    {
      method: "CONNECT",
    },
  ],
  [
    "chunked response to an HTTP/1.0 request",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    502,
    undefined,
    { method: "GET", version: 10 },
  ],
  [
    "length response to an HTTP/1.0 request",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
    "ok",
    framing("length", 2),
    { method: "GET", version: 10 },
  ],
];

describe("parseResponseHead strictness vectors", () => {
  it.each(vectors)("%s", (_name, raw, expected, check, req) => {
    const r = parse(raw, req);
    if (expected === "incomplete") expect(r.kind).toBe("incomplete");
    else if (expected === "ok") {
      expect(r, JSON.stringify(r.kind === "error" ? r : r.kind)).toMatchObject({ kind: "head" });
      if (r.kind === "head") check?.(r.head);
    } else expect(r.kind === "error" ? r.status : r.kind).toBe(expected);
  });

  it.each(vectors)("byte by byte: %s", (_name, raw, _expected, _check, req) => {
    const bytes = Buffer.from(raw, "latin1");
    const whole = parseResponseHead(bytes, DEFAULT_HEAD_LIMITS, req ?? GET);
    const scan = newHeadScan();
    let last: typeof whole = { kind: "incomplete" };
    for (let end = 1; end <= bytes.length; end++) {
      last = parseResponseHead(bytes.subarray(0, end), DEFAULT_HEAD_LIMITS, req ?? GET, scan);
      if (last.kind !== "incomplete") break;
    }
    expect(last.kind).toBe(whole.kind);
    if (last.kind === "error" && whole.kind === "error") expect(last).toEqual(whole);
    if (last.kind === "head" && whole.kind === "head") {
      expect(last.length).toBe(whole.length);
      expect(last.head.headers).toEqual(whole.head.headers);
      expect(last.head.framing).toEqual(whole.head.framing);
    }
  });

  it("answers 502 for a status line or head over the limits", () => {
    const limits = { maxRequestLine: 32, maxHeadSize: 128, maxHeaders: 2 };
    const b = (s: string) => Buffer.from(s, "latin1");
    expect(parseResponseHead(b(`HTTP/1.1 200 ${"x".repeat(40)}\r\n\r\n`), limits, GET)).toMatchObject({
      status: 502,
    });
    expect(parseResponseHead(b(`HTTP/1.1 200 OK\r\nA: ${"x".repeat(200)}`), limits, GET)).toMatchObject({
      status: 502,
    });
    expect(
      parseResponseHead(b("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), limits, GET),
    ).toMatchObject({
      status: 502,
      reason: "too-many-headers",
    });
  });
});
