import { describe, expect, it } from "vitest";
import { ProxyConfigError } from "../errors.js";
import {
  headerRules,
  responseAsReceived,
  responseHeadBytes,
  serialiseRequest,
  serialiseResponse,
} from "./forward.js";
import { parseRequestHead } from "./request.js";
import { parseResponseHead } from "./response.js";
import { CANNED_STATUSES, cannedHeadLength, cannedResponse } from "./responses.js";
import { DEFAULT_HEAD_LIMITS } from "./scan.js";
import type { RequestHead, ResponseHead } from "./types.js";

function req(raw: string): RequestHead {
  const r = parseRequestHead(Buffer.from(raw, "latin1"), DEFAULT_HEAD_LIMITS);
  if (r.kind !== "head") throw new Error(JSON.stringify(r));
  return r.head;
}

function res(raw: string, method = "GET"): ResponseHead {
  const r = parseResponseHead(Buffer.from(raw, "latin1"), DEFAULT_HEAD_LIMITS, { method });
  if (r.kind !== "head") throw new Error(JSON.stringify(r));
  return r.head;
}

const text = (b: Buffer) => b.toString("latin1");
/** `out` shares `raw`'s memory (small buffers share Node's pool: the same ArrayBuffer alone says nothing). */
const viewOf = (out: Buffer, raw: Buffer) =>
  out.buffer === raw.buffer &&
  out.byteOffset >= raw.byteOffset &&
  out.byteOffset < raw.byteOffset + raw.length;

describe("a head with nothing to change goes as received", () => {
  it("an HTTP/1.1 request without hop-by-hop fields or rules: its own bytes, no copy, no Connection added", () => {
    const head = req("\r\nGET /x HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n");
    const out = serialiseRequest(head, { connection: "keep-alive" });
    expect(text(out)).toBe("GET /x HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n");
    expect(viewOf(out, head.raw)).toBe(true); // the received bytes themselves
    const said = req("GET /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");
    expect(viewOf(serialiseRequest(said, { connection: "keep-alive" }), said.raw)).toBe(true);
  });

  it("is rebuilt whenever something changes: HTTP/1.0, Connection to restate, hop-by-hop fields, rules, chunked", () => {
    const rebuilt = (raw: string, ctx: { connection: "keep-alive" | "close" }, rules?: object) => {
      const head = req(raw);
      const out = serialiseRequest(head, ctx, rules ? headerRules(rules) : undefined);
      expect(viewOf(out, head.raw)).toBe(false);
      return text(out);
    };
    expect(rebuilt("GET / HTTP/1.0\r\nHost: h\r\n\r\n", { connection: "keep-alive" })).toContain(
      "Connection: keep-alive",
    );
    expect(
      rebuilt("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", { connection: "keep-alive" }),
    ).toBe("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");
    expect(rebuilt("GET / HTTP/1.1\r\nHost: h\r\n\r\n", { connection: "close" })).toContain(
      "Connection: close",
    );
    expect(rebuilt("GET / HTTP/1.1\r\nHost: h\r\nKeep-Alive: 5\r\n\r\n", { connection: "keep-alive" })).toBe(
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n",
    );
    expect(
      rebuilt("GET / HTTP/1.1\r\nHost: h\r\n\r\n", { connection: "keep-alive" }, { set: [["X-A", "1"]] }),
    ).toContain("X-A: 1");
    expect(
      rebuilt("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", {
        connection: "keep-alive",
      }),
    ).toContain("Transfer-Encoding: chunked");
  });

  it("a response only when its own Connection field already says what the client is told", () => {
    const keep = res("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
    expect(viewOf(serialiseResponse(keep, { connection: "keep-alive" }), keep.raw)).toBe(true);
    expect(text(serialiseResponse(keep, { connection: "close" }))).toBe(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
    );
    // no Connection field: stated (an HTTP/1.0 client would otherwise take it as close)
    const bare = res("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
    expect(text(serialiseResponse(bare, { connection: "keep-alive" }))).toBe(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n",
    );
    const noContent = res("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
    expect(text(serialiseResponse(noContent, { connection: "keep-alive" }))).toBe(
      "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n",
    );
  });
});

describe("serialiseRequest", () => {
  it("removes hop-by-hop fields, those named in Connection, and states Connection", () => {
    const head = req(
      "GET /a?b HTTP/1.1\r\nHost: a.example\r\nConnection: X-Foo, keep-alive\r\nX-Foo: 1\r\nKeep-Alive: timeout=5\r\n" +
        "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\nAccept: */*\r\nx-foo: 2\r\n\r\n",
    );
    expect(text(serialiseRequest(head, { connection: "keep-alive" }))).toBe(
      "GET /a?b HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n",
    );
    expect(text(serialiseRequest(head, { connection: "close" }))).toBe(
      "GET /a?b HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\nConnection: close\r\n\r\n",
    );
  });

  it("never drops Content-Length or Host because Connection names them (hop-by-hop abuse)", () => {
    const head = req(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: Content-Length, host, X-A, Authorization\r\n" +
        "X-A: 1\r\nAuthorization: t\r\n\r\n",
    );
    expect(text(serialiseRequest(head, { connection: "keep-alive" }))).toBe(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n",
    );
  });

  it("keeps Upgrade when tunnelling and restates chunked framing canonically", () => {
    const ws = req(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
    );
    expect(text(serialiseRequest(ws, { connection: "upgrade" }))).toBe(
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nConnection: upgrade\r\n\r\n",
    );
    const post = req("POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\nHost: h\r\n\r\n");
    expect(text(serialiseRequest(post, { connection: "keep-alive" }))).toBe(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n",
    );
  });

  it("keeps Content-Length, the request line and original field case verbatim", () => {
    const head = req("PUT /x HTTP/1.0\r\nhOST: h\r\nCONTENT-LENGTH: 3\r\nX-Weird-Case: A  b\r\n\r\n");
    expect(text(serialiseRequest(head, { connection: "keep-alive" }))).toBe(
      "PUT /x HTTP/1.0\r\nhOST: h\r\nCONTENT-LENGTH: 3\r\nX-Weird-Case: A  b\r\nConnection: keep-alive\r\n\r\n",
    );
  });

  it("skips leading empty lines of the received bytes", () => {
    const head = req("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    expect(text(serialiseRequest(head, { connection: "close" }))).toBe(
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
  });

  it("applies del/set/add rules and the forwarding fields", () => {
    const rules = headerRules({
      del: ["x-secret"],
      set: [["X-Env", "prod"]],
      add: [["Via", "1.1 lbkit"]],
      forwardedFor: true,
      forwardedProto: true,
      forwardedHost: true,
      forwarded: { by: "lb1" },
    });
    const head = req(
      "GET / HTTP/1.1\r\nHost: a.example:8080\r\nX-Secret: s\r\nX-Env: dev\r\nX-Forwarded-For: 10.0.0.9\r\n" +
        "X-Forwarded-Proto: ftp\r\n\r\n",
    );
    expect(
      text(
        serialiseRequest(
          head,
          { connection: "keep-alive", clientAddress: "::ffff:192.0.2.1", proto: "https" },
          rules,
        ),
      ),
    ).toBe(
      "GET / HTTP/1.1\r\nHost: a.example:8080\r\nX-Forwarded-For: 10.0.0.9\r\nConnection: keep-alive\r\n" +
        "X-Env: prod\r\nVia: 1.1 lbkit\r\nX-Forwarded-For: 192.0.2.1\r\nX-Forwarded-Proto: https\r\n" +
        'X-Forwarded-Host: a.example:8080\r\nForwarded: for=192.0.2.1;by=lb1;proto=https;host="a.example:8080"\r\n\r\n',
    );
    const v6 = text(
      serialiseRequest(
        req("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
        { connection: "close", clientAddress: "2001:db8::1" },
        rules,
      ),
    );
    expect(v6).toContain('Forwarded: for="[2001:db8::1]";by=lb1;host=h\r\n');
    expect(v6).toContain("X-Forwarded-For: 2001:db8::1\r\n");
  });

  it("quotes Forwarded values that are not tokens", () => {
    const head = req("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    const out = (by: string) =>
      text(
        serialiseRequest(
          head,
          { connection: "close", clientAddress: "10.0.0.2" },
          headerRules({ forwarded: { by } }),
        ),
      );
    expect(out("10.0.0.1:80")).toContain('Forwarded: for=10.0.0.2;by="10.0.0.1:80";host=h\r\n');
    expect(out("[2001:db8::1]")).toContain('by="[2001:db8::1]"');
    expect(out("_lb1")).toContain("by=_lb1;");
  });

  it("skips X-Forwarded-For for excepted clients (HAProxy `except`)", () => {
    const rules = headerRules({ forwardedFor: { header: "X-Client", except: (a) => a.startsWith("127.") } });
    const head = req("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    expect(
      text(serialiseRequest(head, { connection: "close", clientAddress: "127.0.0.1" }, rules)),
    ).not.toContain("X-Client");
    expect(text(serialiseRequest(head, { connection: "close", clientAddress: "10.1.1.1" }, rules))).toContain(
      "X-Client: 10.1.1.1\r\n",
    );
  });

  it("rejects invalid rules at construction", () => {
    expect(() => headerRules({ set: [["X Y", "v"]] })).toThrow(ProxyConfigError);
    expect(() => headerRules({ add: [["X", "a\r\nInjected: 1"]] })).toThrow(ProxyConfigError);
    expect(() => headerRules({ set: [["X", "a\0"]] })).toThrow(/not a valid header value/);
    expect(() => headerRules({ del: ["bad:name"] })).toThrow(/del "bad:name" is not a valid header name/);
    expect(() => headerRules({ forwardedFor: { header: "" } })).toThrow(ProxyConfigError);
  });

  it("produces a head that parses back to the same fields", () => {
    const head = req(
      "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nX-A: 1\r\nConnection: close\r\n\r\n",
    );
    const again = parseRequestHead(serialiseRequest(head, { connection: "keep-alive" }), DEFAULT_HEAD_LIMITS);
    expect(again.kind).toBe("head");
    if (again.kind !== "head") return;
    expect(again.head.headers).toEqual([
      "host",
      "h",
      "content-length",
      "4",
      "x-a",
      "1",
      "connection",
      "keep-alive",
    ]);
    expect(again.head.framing).toEqual(head.framing);
  });
});

describe("serialiseResponse", () => {
  it("removes hop-by-hop fields and states Connection and chunked framing", () => {
    const head = res(
      "HTTP/1.1 200 OK\r\nServer: s\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\n" +
        "Transfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n",
    );
    expect(
      text(
        serialiseResponse(
          head,
          { connection: "close" },
          headerRules({ del: ["server"], add: [["X-Via", "lb"]] }),
        ),
      ),
    ).toBe("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nX-Via: lb\r\n\r\n");
  });

  it("never passes a Content-Length on a 204 or 1xx (RFC 9110 §8.6), but keeps it on a 304 and a HEAD answer", () => {
    const ctx = { connection: "keep-alive" } as const;
    expect(
      text(serialiseResponse(res("HTTP/1.1 204 No Content\r\nContent-Length: 35\r\nX-A: 1\r\n\r\n"), ctx)),
    ).toBe("HTTP/1.1 204 No Content\r\nX-A: 1\r\nConnection: keep-alive\r\n\r\n");
    expect(
      text(serialiseResponse(res("HTTP/1.1 304 Not Modified\r\nContent-Length: 35\r\n\r\n"), ctx)),
    ).toContain("Content-Length: 35");
    expect(
      text(serialiseResponse(res("HTTP/1.1 200 OK\r\nContent-Length: 35\r\n\r\n", "HEAD"), ctx)),
    ).toContain("Content-Length: 35");
  });
});

describe("responseHeadBytes (the proxy's path: responseAsReceived asked first)", () => {
  it("answers what serialiseResponse answers, as received or rebuilt, for each kind of response and context", () => {
    const raws = [
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n",
      "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
      'HTTP/1.1 304 Not Modified\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nETag: "a"\r\n\r\n',
    ];
    const contexts = [{ connection: "keep-alive" as const }, { connection: "close" as const }];
    const ruleSets = [undefined, headerRules({ del: ["etag"] }), headerRules({ set: [["X-A", "1"]] })];
    let asIs = 0;
    for (const raw of raws)
      for (const ctx of contexts)
        for (const rules of ruleSets) {
          const head = res(raw);
          const r = rules ?? headerRules({});
          const verdict = responseAsReceived(head, ctx, r);
          const out = responseHeadBytes(head, ctx, r, verdict);
          expect(text(out), `${JSON.stringify(raw)} ${ctx.connection}`).toBe(
            text(serialiseResponse(head, ctx, r)),
          );
          expect(viewOf(out, head.raw)).toBe(verdict);
          if (verdict) asIs++;
        }
    expect(asIs).toBeGreaterThan(0); // both branches were taken
  });
});

describe("cannedResponse", () => {
  it("pre-encodes a parseable response for each status, closing or not", () => {
    for (const status of CANNED_STATUSES) {
      for (const close of [true, false]) {
        const buf = cannedResponse(status, close);
        expect(cannedResponse(status, close)).toBe(buf);
        const r = parseResponseHead(buf, DEFAULT_HEAD_LIMITS, { method: "GET" });
        expect(r.kind).toBe("head");
        if (r.kind !== "head") continue;
        expect(r.head.status).toBe(status);
        expect(r.head.keepAlive).toBe(!close);
        expect(r.length).toBe(cannedHeadLength(status, close));
        expect(r.head.framing).toEqual({ kind: "length", n: buf.length - r.length });
      }
    }
  });
});
