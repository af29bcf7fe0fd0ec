/**
 * Differential check against llhttp (the parser inside node:http, reached through node's internal binding): for
 * generated requests mixing framing headers and their obfuscations, whenever this layer accepts a request, llhttp
 * must either reject it or agree on where it ends (the same next request follows). A disagreement is exactly a
 * request-smuggling desync between two parsers. llhttp's leniencies are off (its default), as in node:http.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChunkedBody } from "./body.js";
import { parseRequestHead } from "./request.js";
import { DEFAULT_HEAD_LIMITS } from "./scan.js";

interface LlhttpParser {
  initialize(type: number, resource: object): void;
  execute(buf: Buffer): number | Error;
  [callback: number]: (...args: unknown[]) => void;
}
interface LlhttpBinding {
  HTTPParser: {
    new (): LlhttpParser;
    REQUEST: number;
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

/** The URLs of the requests llhttp completes in `bytes`, or "rejected". */
function llhttpRequests(bytes: Buffer): string[] | "rejected" {
  const { HTTPParser } = llhttp();
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {});
  const urls: string[] = [];
  let url = "";
  parser[HTTPParser.kOnHeadersComplete] = (...args: unknown[]) => {
    url = args[4] as string;
  };
  parser[HTTPParser.kOnBody] = () => {};
  parser[HTTPParser.kOnMessageComplete] = () => {
    urls.push(url);
  };
  return parser.execute(bytes) instanceof Error ? "rejected" : urls;
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

/** The body this layer's framing expects, so that NEXT follows it. */
function bodyFor(framing: { kind: string; n?: number }): string {
  if (framing.kind === "length") return "x".repeat(framing.n ?? 0);
  if (framing.kind === "chunked") return "5\r\nhello\r\n0\r\n\r\n";
  return "";
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
});
