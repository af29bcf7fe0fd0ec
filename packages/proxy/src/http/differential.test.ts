/**
 * Differential check against llhttp (the parser inside node:http, reached through node's internal binding): for
 * generated requests mixing framing headers and their obfuscations, whenever this layer accepts a request, llhttp
 * must either reject it or agree on where it ends (the same next request follows). A disagreement is exactly a
 * request-smuggling desync between two parsers. llhttp's leniencies are off (its default), as in node:http.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChunkedBody, ContentLengthBody } from "./body.js";
import { serialiseRequest, serialiseResponse } from "./forward.js";
import { parseRequestHead } from "./request.js";
import { parseResponseHead } from "./response.js";
import { DEFAULT_HEAD_LIMITS } from "./scan.js";
import type { MessageHead } from "./types.js";

interface LlhttpParser {
  initialize(type: number, resource: object): void;
  execute(buf: Buffer): number | Error;
  [callback: number]: (...args: unknown[]) => void;
}
interface LlhttpBinding {
  HTTPParser: {
    new (): LlhttpParser;
    REQUEST: number;
    RESPONSE: number;
    kOnHeadersComplete: number;
    kOnMessageComplete: number;
    kOnBody: number;
  };
}

function llhttp(): LlhttpBinding {
  const warn = process.emitWarning;
  process.emitWarning = () => {}; // DEP0111: the binding is internal; this test reads it on purpose
  try {
    return (process as unknown as { binding(name: string): LlhttpBinding }).binding("http_parser");
  } finally {
    process.emitWarning = warn;
  }
}

/** The URLs of the requests (the statuses of the responses) llhttp completes in `bytes`, or "rejected". */
function llhttpRequests(bytes: Buffer, response = false): string[] | "rejected" {
  const { HTTPParser } = llhttp();
  const parser = new HTTPParser();
  parser.initialize(response ? HTTPParser.RESPONSE : HTTPParser.REQUEST, {});
  const seen: string[] = [];
  let what = "";
  parser[HTTPParser.kOnHeadersComplete] = (...args: unknown[]) => {
    what = response ? String(args[5]) : (args[4] as string);
  };
  parser[HTTPParser.kOnBody] = () => {};
  parser[HTTPParser.kOnMessageComplete] = () => {
    seen.push(what);
  };
  return parser.execute(bytes) instanceof Error ? "rejected" : seen;
}

const NEXT = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";

/** Mostly one of the valid pieces, sometimes one of the variants. */
const mostly = (valid: string[], variants: string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: fc.constantFrom(...variants) },
  );

const framingName = mostly(
  ["Content-Length", "content-length", "Transfer-Encoding", "TRANSFER-ENCODING"],
  [
    "Transfer-Encoding ",
    " Transfer-Encoding",
    "Transfer_Encoding",
    "Content-Length ",
    "X-Other",
    "Content-Length\0",
  ],
);
const framingValue = mostly(
  ["chunked", "CHUNKED", "0", "5", "05", "12"],
  [
    " chunked",
    "chunked ",
    "\tchunked",
    "xchunked",
    "chunked, identity",
    "identity, chunked",
    "gzip, chunked",
    "chunked, chunked",
    '"chunked"',
    "chunked\x0b",
    "ch\x00unked",
    "+5",
    "-5",
    "5 ",
    "5, 5",
    "5,6",
    "0x5",
    "99999999999999999999",
    "",
  ],
);
const request = fc
  .record({
    method: fc.constantFrom("GET", "POST", "PUT"),
    version: mostly(["HTTP/1.1"], ["HTTP/1.0"]),
    fields: fc.array(fc.tuple(framingName, framingValue), { minLength: 1, maxLength: 2 }),
    separator: mostly([": ", ":"], [" : ", ":\t", " :"]),
    ending: mostly(["\r\n"], ["\n", "\r", "\r\r\n"]),
  })
  .map(
    (r) =>
      `${r.method} /first ${r.version}\r\nHost: a\r\n` +
      r.fields.map(([n, v]) => `${n}${r.separator}${v}${r.ending}`).join("") +
      "\r\n",
  );

const response = fc
  .record({
    status: mostly(
      ["200 OK", "404 Not Found", "500 Oops"],
      ["204 No Content", "304 Not Modified", "200", "201 "],
    ),
    fields: fc.array(fc.tuple(framingName, framingValue), { minLength: 1, maxLength: 2 }),
    separator: mostly([": ", ":"], [" : ", ":\t", " :"]),
    ending: mostly(["\r\n"], ["\n", "\r", "\r\r\n"]),
  })
  .map(
    (r) =>
      `HTTP/1.1 ${r.status}\r\n${r.fields.map(([n, v]) => `${n}${r.separator}${v}${r.ending}`).join("")}\r\n`,
  );
const NEXT_RESPONSE = "HTTP/1.1 299 Next\r\nContent-Length: 0\r\n\r\n";

/** A chunk with an optional extension, size in either case. */
const chunk = fc
  .tuple(fc.integer({ min: 1, max: 20 }), mostly([""], [";a", ";a=b", ';q="x y"', ";a=1;b"]), fc.boolean())
  .map(([n, ext, upper]) => {
    const size = n.toString(16);
    return `${upper ? size.toUpperCase() : size}${ext}\r\n${"z".repeat(n)}\r\n`;
  });
/** No body, a Content-Length body, or a chunked body with optional trailers: its framing field and bytes. */
const body = fc.oneof(
  fc.constant({ head: "", body: "" }),
  fc.nat({ max: 40 }).map((n) => ({ head: `Content-Length: ${n}\r\n`, body: "y".repeat(n) })),
  fc
    .tuple(fc.array(chunk, { maxLength: 4 }), mostly([""], ["X-Sum: 1\r\n", "X-A: b\r\nX-C: d\r\n"]))
    .map(([chunks, trailer]) => ({
      head: "Transfer-Encoding: chunked\r\n",
      body: `${chunks.join("")}0\r\n${trailer}\r\n`,
    })),
);

/** The body this layer's framing expects, so that NEXT follows it. */
function bodyFor(framing: { kind: string; n?: number }): string {
  if (framing.kind === "length") return "x".repeat(framing.n ?? 0);
  if (framing.kind === "chunked") return "5\r\nhello\r\n0\r\n\r\n";
  return "";
}

/**
 * What a proxy built on this layer sends on: for each message of `input`, `next` parses and re-serialises the
 * head, then the body's bytes follow verbatim as its decoder delimits them.
 */
function forwardStream(
  input: Buffer,
  next: (buf: Buffer) => { head: MessageHead; length: number; bytes: Buffer },
): Buffer {
  const out: Buffer[] = [];
  let off = 0;
  while (off < input.length) {
    const { head, length, bytes } = next(input.subarray(off));
    out.push(bytes);
    off += length;
    const f = head.framing;
    const decoder =
      f.kind === "length" ? new ContentLengthBody(f.n) : f.kind === "chunked" ? new ChunkedBody() : undefined;
    if (decoder) {
      const n = decoder.feed(input, off);
      expect(decoder.error).toBeUndefined();
      expect(decoder.done).toBe(true);
      out.push(input.subarray(off, off + n));
      off += n;
    }
  }
  return Buffer.concat(out);
}

describe("differential with llhttp", () => {
  it("whatever this layer accepts, llhttp rejects or frames the same way", () => {
    let accepted = 0;
    let compared = 0;
    fc.assert(
      fc.property(request, (head) => {
        const r = parseRequestHead(Buffer.from(head, "latin1"), DEFAULT_HEAD_LIMITS);
        if (r.kind !== "head") return;
        const framing = r.head.framing as { kind: string; n?: number };
        if (framing.kind === "length" && (framing.n ?? 0) > 1000) return;
        accepted++;
        const body = bodyFor(framing);
        if (framing.kind === "chunked") {
          const c = new ChunkedBody();
          expect(c.feed(Buffer.from(body), 0)).toBe(body.length);
          expect(c.done).toBe(true);
        }
        const bytes = Buffer.from(head + body + NEXT, "latin1");
        const theirs = llhttpRequests(bytes);
        if (theirs === "rejected") return;
        compared++;
        expect(theirs).toEqual(["/first", "/next"]);
      }),
      { numRuns: 400 },
    );
    // enough requests were accepted by both for the comparison to mean something
    expect(accepted).toBeGreaterThan(20);
    expect(compared).toBeGreaterThan(20);
  }, 30_000);

  it("whatever chunked body this layer accepts, llhttp rejects or ends it at the same byte", () => {
    const size = mostly(
      ["5"],
      ["05", "0005", "5 ", " 5", "5\t", "0x5", "+5", "5;a=b", "5;a", '5;a="x"', "5 ;a", "5;", "4", "6"],
    );
    const eol = mostly(["\r\n"], ["\n", "\r", "\r\r\n", " \r\n"]);
    const last = mostly(["0"], ["00", "0;x=y", "0 ", "000000000000000000000"]);
    const trailer = mostly(
      [""],
      ["X-A: 1\r\n", "X-A : 1\r\n", "Content-Length: 3\r\n", "X-A: 1\n", " X: 1\r\n"],
    );
    const body = fc
      .tuple(size, eol, eol, last, eol, trailer, eol)
      .map(([s, e1, e2, l, e3, t, e4]) => `${s}${e1}hello${e2}${l}${e3}${t}${e4}`);
    const head = "POST /first HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    let accepted = 0;
    let compared = 0;
    fc.assert(
      fc.property(body, (b) => {
        const c = new ChunkedBody();
        const n = c.feed(Buffer.from(b + NEXT, "latin1"), 0);
        if (!c.done || n !== b.length) return;
        accepted++;
        const theirs = llhttpRequests(Buffer.from(head + b + NEXT, "latin1"));
        if (theirs === "rejected") return;
        compared++;
        expect(theirs).toEqual(["/first", "/next"]);
      }),
      { numRuns: 400 },
    );
    expect(accepted).toBeGreaterThan(20);
    expect(compared).toBeGreaterThan(20);
  }, 30_000);

  it("whatever response head this layer accepts, llhttp rejects or frames the same way", () => {
    let accepted = 0;
    let compared = 0;
    fc.assert(
      fc.property(response, (head) => {
        const r = parseResponseHead(Buffer.from(head, "latin1"), DEFAULT_HEAD_LIMITS, { method: "GET" });
        if (r.kind !== "head") return;
        const framing = r.head.framing as { kind: string; n?: number };
        if (framing.kind === "until-close" || (framing.kind === "length" && (framing.n ?? 0) > 1000)) return;
        accepted++;
        const theirs = llhttpRequests(Buffer.from(head + bodyFor(framing) + NEXT_RESPONSE, "latin1"), true);
        if (theirs === "rejected") return;
        compared++;
        expect(theirs).toEqual([String(r.head.status), "299"]);
      }),
      { numRuns: 400 },
    );
    expect(accepted).toBeGreaterThan(20);
    expect(compared).toBeGreaterThan(20);
  }, 30_000);

  it("a pipelined stream forwarded by this layer reaches llhttp as the same requests", () => {
    const one = fc
      .record({
        method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "OPTIONS"),
        id: fc.nat({ max: 999 }),
        extra: mostly(
          [""],
          ["Connection: X-Hop\r\nX-Hop: 1\r\n", "Keep-Alive: 5\r\n", "TE: trailers\r\n", "Upgrade: h2c\r\n"],
        ),
        body,
      })
      .map((r) => ({
        url: `/r${r.id}`,
        bytes: `${r.method} /r${r.id} HTTP/1.1\r\nHost: a\r\n${r.extra}${r.body.head}\r\n${r.body.body}`,
      }));
    fc.assert(
      fc.property(fc.array(one, { minLength: 1, maxLength: 4 }), (requests) => {
        const input = Buffer.from(requests.map((r) => r.bytes).join(""), "latin1");
        // what a proxy built on this layer sends upstream: each head re-serialised, each body verbatim
        const out = forwardStream(input, (buf) => {
          const r = parseRequestHead(buf, DEFAULT_HEAD_LIMITS);
          if (r.kind !== "head") throw new Error(JSON.stringify(r));
          return {
            head: r.head,
            length: r.length,
            bytes: serialiseRequest(r.head, { connection: "keep-alive" }),
          };
        });
        expect(llhttpRequests(out)).toEqual(requests.map((r) => r.url));
      }),
      { numRuns: 200 },
    );
  }, 30_000);

  it("a stream of responses forwarded by this layer reaches llhttp as the same responses", () => {
    const one = fc
      .record({
        status: fc.integer({ min: 200, max: 599 }).filter((n) => n !== 204 && n !== 304),
        extra: mostly(
          [""],
          ["Connection: X-Hop\r\nX-Hop: 1\r\n", "Keep-Alive: timeout=5\r\n", "Trailer: X-Sum\r\n"],
        ),
        body: body.filter((b) => b.head !== ""),
      })
      .map((r) => ({
        status: String(r.status),
        bytes: `HTTP/1.1 ${r.status} X\r\n${r.extra}${r.body.head}\r\n${r.body.body}`,
      }));
    const bodiless = fc
      .constantFrom("204", "304")
      .map((status) => ({ status, bytes: `HTTP/1.1 ${status} X\r\n\r\n` }));
    fc.assert(
      fc.property(fc.array(fc.oneof(one, bodiless), { minLength: 1, maxLength: 4 }), (responses) => {
        const input = Buffer.from(responses.map((r) => r.bytes).join(""), "latin1");
        const out = forwardStream(input, (buf) => {
          const r = parseResponseHead(buf, DEFAULT_HEAD_LIMITS, { method: "GET" });
          if (r.kind !== "head") throw new Error(JSON.stringify(r));
          return {
            head: r.head,
            length: r.length,
            bytes: serialiseResponse(r.head, { connection: "keep-alive" }),
          };
        });
        expect(llhttpRequests(out, true)).toEqual(responses.map((r) => r.status));
      }),
      { numRuns: 200 },
    );
  }, 30_000);
});
