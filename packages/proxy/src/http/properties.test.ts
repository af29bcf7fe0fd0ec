import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChunkedBody } from "./body.js";
import { serialiseRequest, serialiseResponse } from "./forward.js";
import { parseRequestHead } from "./request.js";
import { parseResponseHead } from "./response.js";
import { DEFAULT_HEAD_LIMITS, newHeadScan } from "./scan.js";
import type { HeadParse, MessageHead, RequestHead } from "./types.js";

const RUNS = { numRuns: 200 };
const TIMEOUT = 30_000;

/** A comparable summary of a parse result. */
function summary(r: HeadParse<MessageHead>): unknown {
  if (r.kind !== "head") return r;
  const h = r.head as RequestHead;
  return {
    length: r.length,
    headers: h.headers,
    framing: h.framing,
    keepAlive: h.keepAlive,
    method: h.method,
    target: h.target,
    host: h.host,
    version: h.version,
  };
}

/** Parses `bytes` as it would arrive cut at `cuts`, with one resumable scan; the first non-incomplete result. */
function parseInPieces(bytes: Buffer, cuts: number[], response = false): HeadParse<MessageHead> {
  const scan = newHeadScan();
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  points.push(bytes.length);
  for (const end of points) {
    const buf = bytes.subarray(0, end);
    const r = response
      ? parseResponseHead(buf, DEFAULT_HEAD_LIMITS, { method: "GET" }, scan)
      : parseRequestHead(buf, DEFAULT_HEAD_LIMITS, scan);
    if (r.kind !== "incomplete") return r;
  }
  return { kind: "incomplete" };
}

const tchar = fc.constantFrom(
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~".split(""),
);
const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
  "trailer",
]);
const SPECIAL = new Set([...HOP, "host", "content-length", "expect"]);
const fieldName = fc
  .array(tchar, { minLength: 1, maxLength: 12 })
  .map((a) => `X-${a.join("")}`)
  .filter((n) => !SPECIAL.has(n.toLowerCase()));
const vchar = fc
  .integer({ min: 0x21, max: 0xff })
  .filter((c) => c !== 0x7f)
  .map((c) => String.fromCharCode(c));
const fieldValue = fc
  .array(fc.oneof({ weight: 8, arbitrary: vchar }, { weight: 1, arbitrary: fc.constantFrom(" ", "\t") }), {
    maxLength: 20,
  })
  .map((a) => a.join("").replace(/^[ \t]+|[ \t]+$/g, ""));
const pathChar = fc.constantFrom(..."abcxyz0123456789-._~!$&'()*+,;=:@/?".split(""));
const target = fc.array(pathChar, { maxLength: 30 }).map((a) => `/${a.join("")}`);
const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PURGE");
const framing = fc.oneof(
  fc.constant(""),
  fc.nat({ max: 1_000_000 }).map((n) => `Content-Length: ${n}\r\n`),
  fc.constant("Transfer-Encoding: chunked\r\n"),
);

/** A valid HTTP/1.1 request head and its parts. */
const validRequest = fc
  .record({
    method,
    target,
    fields: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 12 }),
    framing,
    conn: fc.constantFrom("", "Connection: close\r\n", "Connection: keep-alive\r\n"),
  })
  .map((r) => ({
    ...r,
    raw:
      `${r.method} ${r.target} HTTP/1.1\r\nHost: a.example\r\n` +
      r.fields.map(([n, v]) => `${n}: ${v}\r\n`).join("") +
      r.framing +
      r.conn +
      "\r\n",
  }));

const cuts = fc.array(fc.nat({ max: 2000 }), { maxLength: 8 });

describe("head parsing is independent of how the bytes arrive", () => {
  it(
    "a valid request head cut anywhere parses as in one piece",
    () => {
      fc.assert(
        fc.property(validRequest, cuts, (req, at) => {
          const bytes = Buffer.from(req.raw, "latin1");
          const whole = parseRequestHead(bytes, DEFAULT_HEAD_LIMITS);
          expect(whole.kind).toBe("head");
          expect(summary(parseInPieces(bytes, at))).toEqual(summary(whole));
        }),
        RUNS,
      );
    },
    TIMEOUT,
  );

  it(
    "a mutated request head cut anywhere gives the same verdict as in one piece",
    () => {
      fc.assert(
        fc.property(
          validRequest,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
          cuts,
          (req, edits, at) => {
            const bytes = Buffer.from(req.raw, "latin1");
            for (const [i, b] of edits) bytes[i % bytes.length] = b;
            expect(summary(parseInPieces(bytes, at))).toEqual(
              summary(parseRequestHead(bytes, DEFAULT_HEAD_LIMITS)),
            );
          },
        ),
        RUNS,
      );
    },
    TIMEOUT,
  );

  it(
    "a response head fed one byte at a time parses as in one piece",
    () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 8 }), framing, (fields, fr) => {
          const raw = `HTTP/1.1 200 OK\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join("")}${fr}\r\n`;
          const bytes = Buffer.from(raw, "latin1");
          const every = Array.from({ length: bytes.length }, (_, i) => i);
          const whole = parseResponseHead(bytes, DEFAULT_HEAD_LIMITS, { method: "GET" });
          expect(whole.kind).toBe("head");
          expect(summary(parseInPieces(bytes, every, true))).toEqual(summary(whole));
        }),
        { numRuns: 50 },
      );
    },
    TIMEOUT,
  );
});

/** A valid chunked body: chunks with optional extensions, optional trailers. */
const chunkedBody = fc
  .record({
    chunks: fc.array(
      fc.tuple(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.constantFrom("", ";a", ";a=b", ';q="x y\\"z"', ";a=1;b"),
        fc.boolean(),
      ),
      { maxLength: 6 },
    ),
    trailers: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 3 }),
  })
  .map(({ chunks, trailers }) => {
    const parts: Buffer[] = [];
    for (const [data, ext, upper] of chunks) {
      const size = data.length.toString(16);
      parts.push(
        Buffer.from(`${upper ? size.toUpperCase() : size}${ext}\r\n`, "latin1"),
        Buffer.from(data),
        Buffer.from("\r\n"),
      );
    }
    parts.push(Buffer.from(`0\r\n${trailers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`, "latin1"));
    return Buffer.concat(parts);
  });

function feedInPieces(bytes: Buffer, at: number[]) {
  const body = new ChunkedBody();
  const points = [...new Set(at.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  points.push(bytes.length);
  let consumed = 0;
  let from = 0;
  for (const end of points) {
    const n = body.feed(bytes, from, end);
    consumed += n;
    if (body.error || body.done) break;
    expect(n).toBe(end - from);
    from = end;
  }
  return { consumed, done: body.done, error: body.error };
}

describe("chunked bodies are independent of how the bytes arrive", () => {
  it(
    "a valid chunked body cut anywhere is consumed exactly, and nothing after it",
    () => {
      fc.assert(
        fc.property(chunkedBody, cuts, fc.uint8Array({ maxLength: 10 }), (body, at, next) => {
          const bytes = Buffer.concat([body, next]);
          expect(feedInPieces(bytes, at)).toEqual({ consumed: body.length, done: true, error: undefined });
        }),
        RUNS,
      );
    },
    TIMEOUT,
  );

  it(
    "a mutated chunked body gives the same verdict whole and in pieces, and never throws",
    () => {
      fc.assert(
        fc.property(
          chunkedBody,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
          cuts,
          (body, edits, at) => {
            const bytes = Buffer.from(body);
            for (const [i, b] of edits) bytes[i % bytes.length] = b;
            expect(feedInPieces(bytes, at)).toEqual(feedInPieces(bytes, []));
          },
        ),
        RUNS,
      );
    },
    TIMEOUT,
  );
});

describe("serialise(parse(head)) round-trips", () => {
  it(
    "keeps every end-to-end field in order and the framing",
    () => {
      fc.assert(
        fc.property(validRequest, (req) => {
          const r = parseRequestHead(Buffer.from(req.raw, "latin1"), DEFAULT_HEAD_LIMITS);
          if (r.kind !== "head") throw new Error(JSON.stringify(r));
          const out = serialiseRequest(r.head, { connection: "keep-alive" });
          const again = parseRequestHead(out, DEFAULT_HEAD_LIMITS);
          if (again.kind !== "head") throw new Error(JSON.stringify(again));
          expect(again.length).toBe(out.length);
          expect(again.head.method).toBe(r.head.method);
          expect(again.head.target).toBe(r.head.target);
          expect(again.head.framing).toEqual(r.head.framing);
          const endToEnd = (h: readonly string[]) => {
            const out: string[] = [];
            for (let i = 0; i < h.length; i += 2) if (!HOP.has(h[i]!)) out.push(h[i]!, h[i + 1]!);
            return out;
          };
          expect(endToEnd(again.head.headers)).toEqual(endToEnd(r.head.headers));
          // keep-alive to the server: said, or HTTP/1.1's default (a head with nothing to change goes as received)
          expect(again.head.keepAlive).toBe(true);
          const connection = again.head.get("connection");
          if (connection !== undefined || again.head.version !== 11) expect(connection).toBe("keep-alive");
        }),
        RUNS,
      );
    },
    TIMEOUT,
  );
});

describe("serialise(parse(response head)) round-trips", () => {
  it(
    "keeps the status line, every end-to-end field in order, and the framing",
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom("200 OK", "404 Not Found", "500", "301 Moved"),
          fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 10 }),
          framing,
          (status, fields, fr) => {
            const raw = `HTTP/1.1 ${status}\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join("")}${fr}\r\n`;
            const r = parseResponseHead(Buffer.from(raw, "latin1"), DEFAULT_HEAD_LIMITS, { method: "GET" });
            if (r.kind !== "head") throw new Error(JSON.stringify(r));
            const out = serialiseResponse(r.head, { connection: "close" });
            const again = parseResponseHead(out, DEFAULT_HEAD_LIMITS, { method: "GET" });
            if (again.kind !== "head") throw new Error(JSON.stringify(again));
            expect(out.subarray(0, out.indexOf("\r\n")).toString("latin1")).toBe(`HTTP/1.1 ${status}`);
            expect(again.head.framing).toEqual(r.head.framing);
            expect(again.head.headers.slice(0, 2 * fields.length)).toEqual(
              r.head.headers.slice(0, 2 * fields.length),
            );
            expect(again.head.keepAlive).toBe(false);
          },
        ),
        RUNS,
      );
    },
    TIMEOUT,
  );
});

describe("random input never throws", () => {
  it(
    "arbitrary bytes give incomplete, an error with a status, or a head within the buffer",
    () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc
          .tuple(
            validRequest,
            fc.array(
              fc.tuple(
                fc.nat(),
                fc.integer({ min: 0, max: 255 }),
                fc.constantFrom("set", "insert", "delete"),
              ),
              { maxLength: 6 },
            ),
          )
          .map(([req, edits]) => {
            const a = [...Buffer.from(req.raw, "latin1")];
            for (const [i, b, op] of edits) {
              const at = i % (a.length + 1);
              if (op === "set") a[at % a.length] = b;
              else if (op === "insert") a.splice(at, 0, b);
              else a.splice(at, 1);
            }
            return Uint8Array.from(a);
          }),
      );
      fc.assert(
        fc.property(bytes, (u8) => {
          const buf = Buffer.from(u8);
          for (const r of [
            parseRequestHead(buf, DEFAULT_HEAD_LIMITS) as HeadParse<MessageHead>,
            parseResponseHead(buf, DEFAULT_HEAD_LIMITS, { method: "GET", upgrade: "websocket" }),
          ]) {
            if (r.kind === "error") expect([400, 414, 431, 501, 502, 505]).toContain(r.status);
            else if (r.kind === "head") {
              expect(r.length).toBeLessThanOrEqual(buf.length);
              void r.head.headers;
            }
          }
          const body = new ChunkedBody();
          expect(body.feed(buf, 0)).toBeLessThanOrEqual(buf.length);
        }),
        { numRuns: 500 },
      );
    },
    TIMEOUT,
  );
});
