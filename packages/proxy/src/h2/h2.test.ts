import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { headerRules } from "../http/forward.js";
import { parseRequestHead } from "../http/request.js";
import { parseResponseHead } from "../http/response.js";
import { DEFAULT_HEAD_LIMITS } from "../http/scan.js";
import { Dechunker } from "./dechunk.js";
import { h2ToHttp1, http1Trailers } from "./request.js";
import { h2ResponseHeaders, h2Trailers } from "./response.js";

const base = [":method", "GET", ":scheme", "https", ":path", "/a?b=1", ":authority", "x.test"];

describe("h2ToHttp1 (pure)", () => {
  it("builds a strict HTTP/1.1 head: host from :authority, cookies joined, chunked when the length is unknown", () => {
    const r = h2ToHttp1([...base, "cookie", "a=1", "x-y", "z", "cookie", "b=2", "te", "trailers"], true);
    expect(r.ok && r.head.toString()).toBe(
      "GET /a?b=1 HTTP/1.1\r\nhost: x.test\r\nx-y: z\r\ncookie: a=1; b=2\r\n\r\n",
    );
    const post = h2ToHttp1(
      [":method", "POST", ":scheme", "https", ":path", "/", ":authority", "x.test"],
      false,
    );
    expect(post).toMatchObject({ ok: true, chunked: true, contentLength: undefined });
    expect(post.ok && post.head.toString()).toMatch(/transfer-encoding: chunked\r\n\r\n$/);
    const cl = h2ToHttp1([...base, "content-length", "5"], false);
    expect(cl).toMatchObject({ ok: true, chunked: false, contentLength: 5 });
  });

  it.each([
    ["CR in a value", ["x", "a\rb"]],
    ["LF in a value", ["x", "a\nb"]],
    ["NUL in a value", ["x", "a\0b"]],
    ["a leading space", ["x", " a"]],
    ["an upper-case name", ["X-Y", "a"]],
    ["a colon in a name", ["x:y", "a"]],
    ["a space in a name", ["x y", "a"]],
    ["connection", ["connection", "close"]],
    ["keep-alive", ["keep-alive", "1"]],
    ["transfer-encoding", ["transfer-encoding", "chunked"]],
    ["upgrade", ["upgrade", "h2c"]],
    ["te: gzip", ["te", "gzip"]],
    ["a bad content-length", ["content-length", "1,1"]],
    ["conflicting content-lengths", ["content-length", "1", "content-length", "2"]],
    ["a pseudo-header after a field", ["x", "1", ":path", "/b"]],
    ["an unknown pseudo-header", [":protocol", "websocket"]],
    ["a second :path", [":path", "/b"]],
    ["host differing from :authority", ["host", "evil.test"]],
    ["CRLF injected in :path", [], [":path", "/a HTTP/1.1\r\nX: y"]],
    ["a space in :path", [], [":path", "/a b"]],
    ["CONNECT", [], [":method", "CONNECT"]],
    ["a relative :path", [], [":path", "a"]],
  ])("refuses %s", (_why, extra, replace?: string[]) => {
    const h = [...base];
    if (replace) h[h.indexOf(replace[0] as string) + 1] = replace[1] as string;
    expect(h2ToHttp1([...h, ...extra], true).ok).toBe(false);
  });

  it("property: whatever it accepts, the HTTP/1.1 parser accepts as one request with the same method, target and host", () => {
    const val = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), val), { maxLength: 6 }),
        fc.constantFrom("/", "/a", "/a?b=c", "/%20x"),
        (fields, path) => {
          const h = [":method", "GET", ":scheme", "https", ":path", path, ":authority", "h.test"];
          for (const [n, v] of fields) h.push(n, v);
          const r = h2ToHttp1(h, true);
          if (!r.ok) return;
          const p = parseRequestHead(r.head, DEFAULT_HEAD_LIMITS);
          expect(p.kind).toBe("head");
          if (p.kind !== "head") return;
          expect(p.length).toBe(r.head.length);
          expect(p.head.method).toBe("GET");
          expect(p.head.target).toBe(path);
          expect(p.head.get("host")).toBe("h.test");
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("Dechunker (pure)", () => {
  it("extracts the payload across any split, skipping extensions and trailers", () => {
    const wire = Buffer.from("5;ext=1\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nx-t: 1\r\n\r\n");
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new Dechunker();
      const out = [...d.feed(wire.subarray(0, cut)), ...d.feed(wire.subarray(cut))];
      expect(Buffer.concat(out).toString()).toBe("hello world!");
      expect(d.done).toBe(true);
    }
  });
});

describe("trailers and response heads (pure)", () => {
  it("Dechunker keeps the trailer section, bounded, whole lines only", () => {
    const wire = Buffer.from("3\r\nabc\r\n0\r\nx-sum: 3\r\nx-b: long-value\r\n\r\n");
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new Dechunker();
      d.feed(wire.subarray(0, cut));
      d.feed(wire.subarray(cut));
      expect(d.trailers).toBe("x-sum: 3\r\nx-b: long-value\r\n");
    }
    const small = new Dechunker(14);
    small.feed(wire);
    expect(small.trailers).toBe("x-sum: 3\r\n");
    expect(h2Trailers("x-sum: 3\r\nContent-Length: 1\r\nX-Up: A\r\nbad line\r\n")).toEqual({
      "x-sum": "3",
      "x-up": "A",
    });
  });

  it("http1Trailers: drops fields not allowed in trailers, refuses pseudo-headers, bad names and values", () => {
    expect(http1Trailers(["x-digest", "abc", "content-length", "1", "host", "h"])).toEqual({
      ok: true,
      lines: "x-digest: abc\r\n",
    });
    expect(http1Trailers([":status", "200"]).ok).toBe(false);
    expect(http1Trailers(["X-Up", "a"]).ok).toBe(false);
    expect(http1Trailers(["x", "a\r\nb: c"]).ok).toBe(false);
  });

  it("h2ResponseHeaders: hop-by-hop fields and those Connection names never cross; rules drop, then add", () => {
    const head = parseResponseHead(
      Buffer.from(
        "HTTP/1.1 200 OK\r\nConnection: keep-alive, x-hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n" +
          "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Del: gone\r\nContent-Length: 0\r\n\r\n",
      ),
      DEFAULT_HEAD_LIMITS,
      { method: "GET" },
    );
    if (head.kind !== "head") throw new Error("unparsed");
    const rules = headerRules({ set: [["X-Set", "v"]], add: [], del: ["x-del"] });
    expect(h2ResponseHeaders(head.head, rules)).toEqual({
      ":status": 200,
      "set-cookie": ["a=1", "b=2"],
      "content-length": "0",
      "x-set": "v",
    });
  });
});
