// The corpus's framer and classifier on hand-made transcripts (no sockets).
import { describe, expect, it } from "vitest";
import { classifyRequest, classifyResponse } from "./classify";
import { frameStream } from "./frame";
import type { OriginRecord } from "./origin";
import { REQUEST_VECTORS, RESPONSE_VECTORS, VECTORS } from "./vectors";

const b = (s: string) => Buffer.from(s, "latin1");

describe("frameStream", () => {
  it("frames pipelined requests with Content-Length and chunked bodies", () => {
    const f = frameStream(
      b(
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloPOST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET",
      ),
      "request",
    );
    expect(f.messages.map((m) => [m.target, m.framing, m.body.toString()])).toEqual([
      ["/a", "content-length", "hello"],
      ["/b", "chunked", "hello"],
    ]);
    expect(f.messages.every((m) => m.flags.length === 0)).toBe(true);
    expect(f.rest.toString()).toBe("GET");
    expect(f.pendingBody).toBeUndefined();
  });
  it("lets chunked win over Content-Length and flags the conflict", () => {
    const f = frameStream(
      b("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX"),
      "request",
    );
    expect(f.messages[0]!.flags).toContain("te-and-cl");
    expect(f.rest.toString()).toBe("X");
  });
  it("flags obs-fold, whitespace before the colon, NUL and bare LF", () => {
    const f = frameStream(
      b("GET / HTTP/1.1\nHost: x\r\nX-A : a\r\nX-B: b\r\n c\r\nX-C: a\0b\r\n\r\n"),
      "request",
    );
    expect(f.messages[0]!.flags.sort()).toEqual([
      "bare-lf",
      "nul-in-value",
      "obs-fold",
      "space-before-colon",
    ]);
  });
  it("reports a pending body, a bad chunk-size and an overflowing Content-Length", () => {
    expect(
      frameStream(b("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nhel"), "request").pendingBody,
    ).toBe(true);
    expect(
      frameStream(b("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), "request")
        .error,
    ).toMatch(/bad chunk-size/);
    const o = frameStream(
      b("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551621\r\n\r\n"),
      "request",
    );
    expect(o.messages[0]!.flags).toContain("cl-overflow");
  });
  it("frames responses: HEAD and 204 without a body, until-close only once closed", () => {
    const two = b("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
    expect(
      frameStream(two, "response", { requestMethods: ["HEAD", "GET"] }).messages.map((m) => m.status),
    ).toEqual([200, 204]);
    const open = b("HTTP/1.1 200 OK\r\n\r\nbody");
    expect(frameStream(open, "response").pendingBody).toBe(true);
    expect(frameStream(open, "response", { closed: true }).messages[0]!.body.toString()).toBe("body");
  });
});

const record = (raws: string[]): OriginRecord => {
  const framed = new Map();
  const messages: OriginRecord["messages"] = [];
  raws.forEach((raw, id) => {
    const f = frameStream(b(raw), "request");
    framed.set(id, f);
    for (const m of f.messages) messages.push({ seq: messages.length, conn: id, message: m });
  });
  return {
    conns: raws.map((_, id) => ({ id, bytes: b(raws[id]!), closed: false, closedByPeer: false })),
    messages,
    framed,
  };
};
const answer = (seq: number) => `HTTP/1.1 200 OK\r\nX-Origin-Msg: ${seq}\r\nContent-Length: 0\r\n\r\n`;
const v = REQUEST_VECTORS[0]!;

describe("classifyRequest", () => {
  it("rejected: the proxy answered 400 and the origin saw nothing", () => {
    const o = classifyRequest(
      v,
      { bytes: b("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), closed: true },
      record([]),
    );
    expect(o.verdict).toBe("rejected");
  });
  it("forwarded safely: one clean message, answered", () => {
    const o = classifyRequest(
      v,
      { bytes: b(answer(0)), closed: false },
      record(["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]),
    );
    expect(o.verdict).toBe("forwarded-safely");
  });
  it("UNSAFE desync: the origin answered a request the client never got an answer for", () => {
    const o = classifyRequest(
      v,
      { bytes: b(answer(0)), closed: false },
      record([
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
      ]),
    );
    expect(o).toMatchObject({ verdict: "UNSAFE", desync: true });
    expect(o.detail).toMatch(/GET \/smuggled/);
  });
  it("UNSAFE desync: a prefix left over at the origin", () => {
    const o = classifyRequest(
      v,
      { bytes: b(answer(0)), closed: false },
      record(["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"]),
    );
    expect(o).toMatchObject({ verdict: "UNSAFE", desync: true });
  });
  it("a dropped answer to a request framed as the client framed it is not a desync", () => {
    const pipelined = REQUEST_VECTORS.find((x) => x.id === "pipeline-garbage")!;
    const o = classifyRequest(
      pipelined,
      { bytes: b("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), closed: true },
      record(["GET /a HTTP/1.1\r\nHost: x\r\n\r\n"]),
    );
    expect(o.verdict).toBe("forwarded-safely");
    expect(o.detail).toMatch(/answer to GET \/a was lost/);
  });
  it("an HTTP/0.9-style answer (no status line) still counts as answered", () => {
    const body = '{"seq":0,"method":"GET","target":"/","bodyLength":0}';
    const o = classifyRequest(v, { bytes: b(body), closed: true }, record(["GET / HTTP/1.0\r\n\r\n"]));
    expect(o.verdict).toBe("forwarded-safely");
  });
  it("UNSAFE without desync: an ambiguous message passed on", () => {
    const o = classifyRequest(
      v,
      { bytes: b(answer(0)), closed: false },
      record(["GET / HTTP/1.1\r\nHost: x\r\nX-A : a\r\n\r\n"]),
    );
    expect(o.verdict).toBe("UNSAFE");
    expect(o.desync).toBe(false);
  });
});

describe("classifyResponse", () => {
  const rv = RESPONSE_VECTORS[0]!;
  const origin = record(["GET /resp/x HTTP/1.1\r\nHost: x\r\n\r\nGET /check HTTP/1.1\r\nHost: x\r\n\r\n"]);
  it("UNSAFE desync when the follow-up request gets the injected response", () => {
    const bytes = b(
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nX-Smuggled: 1\r\nContent-Length: 0\r\n\r\n",
    );
    expect(classifyResponse(rv, { bytes, closed: false }, origin, true)).toMatchObject({
      verdict: "UNSAFE",
      desync: true,
    });
  });
  it("rejected on a 502, forwarded safely when the follow-up gets its own answer", () => {
    expect(
      classifyResponse(
        rv,
        { bytes: b("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"), closed: true },
        origin,
        false,
      ).verdict,
    ).toBe("rejected");
    const ok = b(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok${answer(1)}`);
    expect(classifyResponse(rv, { bytes: ok, closed: false }, origin, true).verdict).toBe("forwarded-safely");
  });
});

describe("the corpus", () => {
  it("has about a hundred vectors with unique ids, hidden requests aimed at /smuggled", () => {
    expect(VECTORS.length).toBeGreaterThanOrEqual(100);
    expect(new Set(VECTORS.map((x) => x.id)).size).toBe(VECTORS.length);
    expect(REQUEST_VECTORS.filter((x) => x.raw.includes("GET /smuggled")).length).toBeGreaterThan(10);
  });
  it("controls frame cleanly under the corpus's own framer", () => {
    for (const c of REQUEST_VECTORS.filter((x) => x.category === "control")) {
      const f = frameStream(b(c.raw), "request");
      expect({
        id: c.id,
        rest: f.rest.length,
        flags: f.messages.flatMap((m) =>
          m.flags.filter((x) => x !== "leading-empty-line" && x !== "chunk-ext" && x !== "trailers"),
        ),
      }).toEqual({ id: c.id, rest: 0, flags: [] });
    }
  });
});
