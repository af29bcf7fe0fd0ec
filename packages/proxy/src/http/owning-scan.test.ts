// The proxy's allocation-free parse path: scans that share one field table between their heads, the head returned
// without a result object, and the shared Content-Length framings. Each must read exactly as the public parse does.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lengthFraming } from "./head.js";
import { parseRequestHead, Request, readRequestHead } from "./request.js";
import { parseResponseHead, Response, readResponseHead } from "./response.js";
import { DEFAULT_HEAD_LIMITS, newHeadScan, newOwningScan, releaseScan } from "./scan.js";
import type { MessageHead } from "./types.js";

const L = DEFAULT_HEAD_LIMITS;
const GET = { method: "GET" } as const;
const b = (s: string) => Buffer.from(s, "latin1");
const view = (h: MessageHead) => ({ headers: h.headers, framing: h.framing, keepAlive: h.keepAlive });

describe("a scan from newOwningScan", () => {
  it("gives its heads one field table, each head reading right until the next parse", () => {
    const scan = newOwningScan();
    const a = readRequestHead(b("GET /a HTTP/1.1\r\nHost: a\r\nX-One: 1\r\nX-Two: 2\r\n\r\n"), L, scan);
    if (!(a instanceof Request)) throw new Error("no head");
    expect(a.headers).toEqual(["host", "a", "x-one", "1", "x-two", "2"]);
    expect(a.get("x-two")).toBe("2");
    const c = readRequestHead(b("POST /c HTTP/1.1\r\nHost: c\r\nContent-Length: 3\r\n\r\nabc"), L, scan);
    if (!(c instanceof Request)) throw new Error("no head");
    expect(c.fields).toBe(a.fields);
    expect(c.fieldCount).toBe(2);
    expect(c.headers).toEqual(["host", "c", "content-length", "3"]);
    expect(c.framing).toEqual({ kind: "length", n: 3 });
    expect(c.length).toBe(c.raw.length - 3);
  });

  it("releaseScan hands a small table back for the next head any scan parses, and lets a large one go", () => {
    const one = newOwningScan();
    const two = newOwningScan();
    const first = readRequestHead(b("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), L, one);
    if (!(first instanceof Request)) throw new Error("no head");
    releaseScan(one);
    const other = readRequestHead(b("GET / HTTP/1.1\r\nHost: b\r\nX-B: 1\r\n\r\n"), L, two);
    if (!(other instanceof Request)) throw new Error("no head");
    expect(other.fields).toBe(first.fields); // the spare went to the next parse, another connection's
    expect(other.headers).toEqual(["host", "b", "x-b", "1"]);
    const lines = Array.from({ length: 40 }, (_, i) => `X-${i}: v\r\n`).join("");
    const many = readRequestHead(b(`GET / HTTP/1.1\r\nHost: a\r\n${lines}\r\n`), L, one);
    if (!(many instanceof Request)) throw new Error("no head");
    expect(many.fieldCount).toBe(41);
    releaseScan(one);
    const after = readRequestHead(b("GET / HTTP/1.1\r\nHost: c\r\n\r\n"), L, one);
    if (!(after instanceof Request)) throw new Error("no head");
    expect(after.fields).not.toBe(many.fields); // the large table was not kept
    expect(after.headers).toEqual(["host", "c"]);
  });

  it("shares the response table the same way; a plain scan copies for every head", () => {
    const own = newOwningScan();
    const plain = newHeadScan();
    const raw = b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: x\r\n\r\nok");
    const r1 = readResponseHead(raw, L, GET, own);
    const r2 = readResponseHead(raw, L, GET, own);
    const p1 = parseResponseHead(raw, L, GET, plain);
    const p2 = parseResponseHead(raw, L, GET, plain);
    if (!(r1 instanceof Response && r2 instanceof Response)) throw new Error("no head");
    if (p1.kind !== "head" || p2.kind !== "head") throw new Error("no head");
    expect(r2.fields).toBe(r1.fields);
    expect((p2.head as Response).fields).not.toBe((p1.head as Response).fields);
    expect(view(r2)).toEqual(view(p1.head));
    expect(r2.status).toBe(200);
    expect(r2.length).toBe(p1.length);
  });

  it("answers incomplete and errors as parseRequestHead / parseResponseHead do", () => {
    for (const raw of [
      "GET / HTTP/1.1\r\nHost: a\r\n",
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
    ]) {
      expect(readRequestHead(b(raw), L, newOwningScan())).toEqual(parseRequestHead(b(raw), L));
    }
    for (const raw of ["HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"]) {
      expect(readResponseHead(b(raw), L, GET, newOwningScan())).toEqual(parseResponseHead(b(raw), L, GET));
    }
  });

  it("reads every head of a sequence as a fresh parse of it does (fast-check)", () => {
    const name = fc.stringMatching(/^X-[A-Za-z0-9]{1,8}$/);
    const value = fc.stringMatching(/^[ -~]{0,12}$/).map((v) => v.trim());
    const head = fc.record({
      fields: fc.array(fc.tuple(name, value), { maxLength: 12 }),
      length: fc.nat(100_000),
      response: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(head, { minLength: 1, maxLength: 8 }), (heads) => {
        const reqScan = newOwningScan();
        const resScan = newOwningScan();
        for (const h of heads) {
          const lines = h.fields.map(([n, v]) => `${n}: ${v}\r\n`).join("");
          if (h.response) {
            const raw = b(`HTTP/1.1 200 OK\r\n${lines}Content-Length: ${h.length}\r\n\r\n`);
            const got = readResponseHead(raw, L, GET, resScan);
            const want = parseResponseHead(raw, L, GET);
            if (!(got instanceof Response) || want.kind !== "head") throw new Error("no head");
            expect(view(got)).toEqual(view(want.head));
          } else {
            const raw = b(`PUT /x HTTP/1.1\r\nHost: h\r\n${lines}Content-Length: ${h.length}\r\n\r\n`);
            const got = readRequestHead(raw, L, reqScan);
            const want = parseRequestHead(raw, L);
            if (!(got instanceof Request) || want.kind !== "head") throw new Error("no head");
            expect(view(got)).toEqual(view(want.head));
          }
        }
      }),
      { numRuns: 200 },
    );
  }, 30_000);
});

describe("lengthFraming", () => {
  it("shares one frozen framing per length, and a slot taken by another length still answers right", () => {
    const a = lengthFraming(100);
    expect(a).toEqual({ kind: "length", n: 100 });
    expect(Object.isFrozen(a)).toBe(true);
    expect(lengthFraming(100)).toBe(a);
    expect(lengthFraming(356)).toEqual({ kind: "length", n: 356 }); // the same slot (356 & 255 === 100)
    expect(lengthFraming(100)).toEqual({ kind: "length", n: 100 });
    expect(lengthFraming(2 ** 40)).toEqual({ kind: "length", n: 2 ** 40 });
  });
});
