// The request strictness vectors: one table, long by nature (one line per vector).
import { describe, expect, it } from "vitest";
import { parseRequestHead } from "./request.js";
import { DEFAULT_HEAD_LIMITS, newHeadScan } from "./scan.js";
import type { RequestHead } from "./types.js";

const H = "Host: a.example\r\n";
const parse = (raw: string, limits = DEFAULT_HEAD_LIMITS) =>
  parseRequestHead(Buffer.from(raw, "latin1"), limits);

/** [name, raw request, expected: an error status, "incomplete", or "ok" (with an optional check)] */
type Vector = [string, string, number | "ok" | "incomplete", ((h: RequestHead) => void)?];

const vectors: Vector[] = [
  // request line
  ["simple GET", `GET / HTTP/1.1\r\n${H}\r\n`, "ok"],
  ["HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", "ok"],
  ["leading empty line skipped", `\r\nGET / HTTP/1.1\r\n${H}\r\n`, "ok"],
  ["leading bare LF", `\nGET / HTTP/1.1\r\n${H}\r\n`, 400],
  ["three leading empty lines skipped", `\r\n\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`, "ok"],
  ["leading CR without LF", `\r\rGET / HTTP/1.1\r\n${H}\r\n`, 400],
  ["leading empty lines then bare LF", `\r\n\r\n\nGET / HTTP/1.1\r\n${H}\r\n`, 400],
  ["lowercase HTTP", `GET / http/1.1\r\n${H}\r\n`, 400],
  ["missing version (HTTP/0.9)", "GET /\r\n\r\n", 400],
  ["double space after method", `GET  / HTTP/1.1\r\n${H}\r\n`, 400],
  ["double space before version", `GET /  HTTP/1.1\r\n${H}\r\n`, 400],
  ["tab as separator", `GET\t/ HTTP/1.1\r\n${H}\r\n`, 400],
  ["trailing space after version", `GET / HTTP/1.1 \r\n${H}\r\n`, 400],
  ["HTTP/2.0", `GET / HTTP/2.0\r\n${H}\r\n`, 505],
  ["HTTP/0.9 version", `GET / HTTP/0.9\r\n${H}\r\n`, 505],
  // RFC 9110 §2.5 lets 1.2 be read as 1.1, but it is forwarded verbatim and a server may read it otherwise
  ["HTTP/1.2 refused", `GET / HTTP/1.2\r\n${H}\r\n`, 505],
  ["two-digit minor", `GET / HTTP/1.10\r\n${H}\r\n`, 400],
  ["HTTP/1 without minor", `GET / HTTP/1\r\n${H}\r\n`, 400],
  ["method with invalid char", `GE(T / HTTP/1.1\r\n${H}\r\n`, 400],
  ["empty method", ` / HTTP/1.1\r\n${H}\r\n`, 400],
  [
    "unknown token method forwarded",
    `PURGE / HTTP/1.1\r\n${H}\r\n`,
    "ok",
    (h) => expect(h.method).toBe("PURGE"),
  ],
  [
    "lowercase method is a different token",
    `get / HTTP/1.1\r\n${H}\r\n`,
    "ok",
    (h) => expect(h.method).toBe("get"),
  ],
  ["NUL in request line", `GET /\0 HTTP/1.1\r\n${H}\r\n`, 400],
  ["bare LF after request line", `GET / HTTP/1.1\n${H}\r\n`, 400],
  ["bare CR inside request line", `GET /a\rb HTTP/1.1\r\n${H}\r\n`, 400],
  ["LF-only request", "GET / HTTP/1.1\nHost: a\n\n", 400],
  // request target
  [
    "origin-form with query",
    `GET /p/q?x=1&y=2 HTTP/1.1\r\n${H}\r\n`,
    "ok",
    (h) => {
      expect(h.targetForm).toBe("origin");
      expect(h.path).toBe("/p/q");
      expect(h.query).toBe("x=1&y=2");
    },
  ],
  ["fragment in target", `GET /a#frag HTTP/1.1\r\n${H}\r\n`, 400],
  ["space inside target (three tokens)", `GET /a b HTTP/1.1\r\n${H}\r\n`, 400],
  ["DEL in target", `GET /a\x7f HTTP/1.1\r\n${H}\r\n`, 400],
  ["non-ASCII in target", `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`, 400],
  ["bad percent escape", `GET /%zz HTTP/1.1\r\n${H}\r\n`, 400],
  ["truncated percent escape", `GET /a% HTTP/1.1\r\n${H}\r\n`, 400],
  ["valid percent escape", `GET /a%2Fb HTTP/1.1\r\n${H}\r\n`, "ok"],
  ["relative target", `GET a/b HTTP/1.1\r\n${H}\r\n`, 400],
  [
    "asterisk for OPTIONS",
    `OPTIONS * HTTP/1.1\r\n${H}\r\n`,
    "ok",
    (h) => expect(h.targetForm).toBe("asterisk"),
  ],
  ["asterisk for GET", `GET * HTTP/1.1\r\n${H}\r\n`, 400],
  ["asterisk followed by a path", `OPTIONS */test HTTP/1.1\r\n${H}\r\n`, 400],
  [
    "absolute-form matching Host",
    `GET http://a.example/x?y HTTP/1.1\r\n${H}\r\n`,
    "ok",
    (h) => {
      expect(h.targetForm).toBe("absolute");
      expect(h.path).toBe("/x");
      expect(h.query).toBe("y");
    },
  ],
  ["absolute-form Host case differs", `GET http://A.Example/ HTTP/1.1\r\n${H}\r\n`, "ok"],
  [
    "absolute-form empty path",
    `GET http://a.example HTTP/1.1\r\n${H}\r\n`,
    "ok",
    (h) => expect(h.path).toBe("/"),
  ],
  ["absolute-form host mismatch", `GET http://b.example/ HTTP/1.1\r\n${H}\r\n`, 400],
  ["absolute-form port mismatch", `GET http://a.example:8080/ HTTP/1.1\r\n${H}\r\n`, 400],
  ["absolute-form explicit default port", `GET http://a.example:80/ HTTP/1.1\r\n${H}\r\n`, "ok"],
  [
    "absolute-form https default port in Host",
    "GET https://a.example/ HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
    "ok",
  ],
  [
    "absolute-form https with port 80 in Host",
    "GET https://a.example/ HTTP/1.1\r\nHost: a.example:80\r\n\r\n",
    400,
  ],
  ["absolute-form Host is a prefix", `GET http://a.example.evil/ HTTP/1.1\r\n${H}\r\n`, 400],
  ["absolute-form https", "GET https://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n", "ok"],
  ["absolute-form other scheme", "GET ftp://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 400],
  ["absolute-form with userinfo", "GET http://u@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 400],
  ["absolute-form empty authority", `GET http:///x HTTP/1.1\r\n${H}\r\n`, 400],
  [
    "absolute-form on 1.0 supplies host",
    "GET http://a.example/ HTTP/1.0\r\n\r\n",
    "ok",
    (h) => expect(h.host).toBe("a.example"),
  ],
  [
    "CONNECT authority-form",
    "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
    "ok",
    (h) => expect(h.targetForm).toBe("authority"),
  ],
  ["CONNECT without port", "CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n", 400],
  ["CONNECT origin-form", "CONNECT / HTTP/1.1\r\nHost: a.example\r\n\r\n", 400],
  [
    "CONNECT Host without port (HAProxy accepts)",
    "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example\r\n\r\n",
    "ok",
  ],
  ["CONNECT Host with another port", "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:444\r\n\r\n", 400],
  ["CONNECT Host mismatch", "CONNECT a.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n", 400],
  ["authority-form for GET", `GET a.example:80 HTTP/1.1\r\n${H}\r\n`, 400],
  // Host
  ["missing Host on 1.1", "GET / HTTP/1.1\r\n\r\n", 400],
  ["duplicate Host", `GET / HTTP/1.1\r\n${H}${H}\r\n`, 400],
  ["duplicate Host, different case", `GET / HTTP/1.1\r\n${H}hOsT: a.example\r\n\r\n`, 400],
  ["duplicate Host, different values", `GET / HTTP/1.1\r\n${H}Host: b.example\r\n\r\n`, 400],
  [
    "Host with port",
    "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n",
    "ok",
    (h) => expect(h.host).toBe("a.example:8080"),
  ],
  ["Host IPv6 literal", "GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", "ok"],
  ["Host with space inside", "GET / HTTP/1.1\r\nHost: a example\r\n\r\n", 400],
  ["Host with slash", "GET / HTTP/1.1\r\nHost: a.example/evil\r\n\r\n", 400],
  ["Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a.example\r\n\r\n", 400],
  ["Host with bad port", "GET / HTTP/1.1\r\nHost: a.example:8o\r\n\r\n", 400],
  ["Host empty (allowed)", "GET / HTTP/1.1\r\nHost:\r\n\r\n", "ok", (h) => expect(h.host).toBe("")],
  ["Host unclosed IPv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400],
  ["Host name with whitespace before colon", "GET / HTTP/1.1\r\nHost : a.example\r\n\r\n", 400],
  // field syntax
  ["obs-fold", `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`, 400],
  ["obs-fold with tab", `GET / HTTP/1.1\r\n${H}X: a\r\n\tb\r\n\r\n`, 400],
  ["whitespace before first field", `GET / HTTP/1.1\r\n ${H}\r\n`, 400],
  ["space before colon", `GET / HTTP/1.1\r\n${H}X-A : b\r\n\r\n`, 400],
  ["tab before colon", `GET / HTTP/1.1\r\n${H}X-A\t: b\r\n\r\n`, 400],
  ["empty field name", `GET / HTTP/1.1\r\n${H}: b\r\n\r\n`, 400],
  ["field without colon", `GET / HTTP/1.1\r\n${H}X-A b\r\n\r\n`, 400],
  ["invalid char in field name", `GET / HTTP/1.1\r\n${H}X(A): b\r\n\r\n`, 400],
  ["non-ASCII in field name", `GET / HTTP/1.1\r\n${H}X\xe9: b\r\n\r\n`, 400],
  ["NUL in field value", `GET / HTTP/1.1\r\n${H}X: a\0b\r\n\r\n`, 400],
  ["bare CR in field value", `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`, 400],
  ["bare LF in field value", `GET / HTTP/1.1\r\n${H}X: a\nb\r\n\r\n`, 400],
  [
    "CRLF injection smuggles a header line",
    `GET / HTTP/1.1\r\n${H}X: a\r\nContent-Length: 5\r\n\r\nhello`,
    "ok",
    (h) => expect(h.framing).toEqual({ kind: "length", n: 5 }),
  ],
  ["vertical tab in value", `GET / HTTP/1.1\r\n${H}X: a\vb\r\n\r\n`, 400],
  ["DEL in value", `GET / HTTP/1.1\r\n${H}X: a\x7fb\r\n\r\n`, 400],
  [
    "obs-text in value accepted",
    `GET / HTTP/1.1\r\n${H}X: caf\xe9\r\n\r\n`,
    "ok",
    (h) => expect(h.get("x")).toBe("caf\xe9"),
  ],
  [
    "HTAB inside value accepted",
    `GET / HTTP/1.1\r\n${H}X: a\tb\r\n\r\n`,
    "ok",
    (h) => expect(h.get("X")).toBe("a\tb"),
  ],
  ["OWS trimmed", `GET / HTTP/1.1\r\n${H}X: \t a b \t\r\n\r\n`, "ok", (h) => expect(h.get("x")).toBe("a b")],
  ["empty value", `GET / HTTP/1.1\r\n${H}X:\r\n\r\n`, "ok", (h) => expect(h.get("x")).toBe("")],
  ["head ends with LF LF", `GET / HTTP/1.1\r\n${H}\n`, 400],
  ["head ends with CR CR LF", `GET / HTTP/1.1\r\n${H}\r\r\n`, 400],
  ["incomplete head", `GET / HTTP/1.1\r\n${H}`, "incomplete"],
  ["incomplete request line", "GET / HT", "incomplete"],
  // Content-Length
  [
    "Content-Length",
    `POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\n`,
    "ok",
    (h) => expect(h.framing).toEqual({ kind: "length", n: 10 }),
  ],
  [
    "Content-Length 0 means no body",
    `POST / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`,
    "ok",
    (h) => expect(h.framing.kind).toBe("none"),
  ],
  [
    "Content-Length leading zeros",
    `POST / HTTP/1.1\r\n${H}Content-Length: 007\r\n\r\n`,
    "ok",
    (h) => expect(h.framing).toEqual({ kind: "length", n: 7 }),
  ],
  ["Content-Length with +", `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\n`, 400],
  ["Content-Length negative", `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 400],
  ["Content-Length hex", `POST / HTTP/1.1\r\n${H}Content-Length: 0x10\r\n\r\n`, 400],
  ["Content-Length space inside", `POST / HTTP/1.1\r\n${H}Content-Length: 1 0\r\n\r\n`, 400],
  ["Content-Length empty", `POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n`, 400],
  ["Content-Length decimal point", `POST / HTTP/1.1\r\n${H}Content-Length: 5.0\r\n\r\n`, 400],
  ["Content-Length overflow", `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`, 400],
  ["Content-Length 2^53", `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`, 400],
  ["Content-Length 2^53-1", `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740991\r\n\r\n`, "ok"],
  ["Content-Length comma list same values", `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\n`, 400],
  ["Content-Length comma list different", `POST / HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\n`, 400],
  [
    "duplicate Content-Length same",
    `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\n`,
    400,
  ],
  [
    "duplicate Content-Length different",
    `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-length: 6\r\n\r\n`,
    400,
  ],
  ["Content-Length space before colon", `POST / HTTP/1.1\r\n${H}Content-Length : 5\r\n\r\n`, 400],
  ["Content-Length NUL", `POST / HTTP/1.1\r\n${H}Content-Length: 5\0\r\n\r\n`, 400],
  ["Content-Length trailing letters", `POST / HTTP/1.1\r\n${H}Content-Length: 5abc\r\n\r\n`, 400],
  // Transfer-Encoding (TE.TE obfuscations and CL.TE / TE.CL)
  [
    "chunked",
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`,
    "ok",
    (h) => expect(h.framing.kind).toBe("chunked"),
  ],
  ["CHUNKED in upper case", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: CHUNKED\r\n\r\n`, "ok"],
  [
    "CL.TE both present",
    `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n`,
    400,
  ],
  [
    "TE.CL both present",
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n`,
    400,
  ],
  ["TE xchunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n`, 400],
  ["TE chunkedx", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunkedx\r\n\r\n`, 400],
  ["TE leading space in name line", `POST / HTTP/1.1\r\n${H} Transfer-Encoding: chunked\r\n\r\n`, 400],
  ["TE space before colon", `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n`, 400],
  ["TE value with tab OWS accepted", `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\r\n\r\n`, "ok"],
  ["TE vertical tab before value", `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\vchunked\r\n\r\n`, 400],
  ["TE form feed after value", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\f\r\n\r\n`, 400],
  ["TE chunked, identity", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n`, 400],
  ["TE identity", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`, 400],
  ["TE gzip only", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, 400],
  [
    "TE gzip, chunked: unsupported coding",
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`,
    501,
  ],
  ["TE chunked, chunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, 400],
  [
    "TE two fields chunked + chunked",
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`,
    400,
  ],
  [
    "TE two fields chunked + identity",
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n`,
    400,
  ],
  ["TE empty", `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n\r\n`, 400],
  ["TE empty list element", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: , chunked\r\n\r\n`, 400],
  ["TE trailing comma", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked,\r\n\r\n`, 400],
  ["TE with parameter", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;q=1\r\n\r\n`, 400],
  ["TE quoted", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: "chunked"\r\n\r\n`, 400],
  ["TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
  [
    "TE name with underscore is another field",
    `POST / HTTP/1.1\r\n${H}Transfer_Encoding: chunked\r\n\r\n`,
    "ok",
    (h) => expect(h.framing.kind).toBe("none"),
  ],
  ["TE NUL in value", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\0\r\n\r\n`, 400],
  ["TE obs-fold continuation", `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n`, 400],
  ["TE non-ASCII look-alike", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: ch\xfcnked\r\n\r\n`, 400],
  // Connection, Upgrade, Expect
  ["1.1 keep-alive by default", `GET / HTTP/1.1\r\n${H}\r\n`, "ok", (h) => expect(h.keepAlive).toBe(true)],
  [
    "1.1 Connection: close",
    `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    "ok",
    (h) => expect(h.keepAlive).toBe(false),
  ],
  ["1.0 close by default", "GET / HTTP/1.0\r\n\r\n", "ok", (h) => expect(h.keepAlive).toBe(false)],
  [
    "1.0 Connection: keep-alive",
    "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
    "ok",
    (h) => expect(h.keepAlive).toBe(true),
  ],
  [
    "Connection lists a field",
    `GET / HTTP/1.1\r\n${H}Connection: X-Foo, keep-alive\r\n\r\n`,
    "ok",
    (h) => expect(h.connectionTokens).toEqual(["x-foo", "keep-alive"]),
  ],
  ["Connection with invalid token", `GET / HTTP/1.1\r\n${H}Connection: a/b\r\n\r\n`, 400],
  [
    "Upgrade with Connection: upgrade",
    `GET / HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    "ok",
    (h) => expect(h.upgrade).toBe("websocket"),
  ],
  [
    "Upgrade without Connection: upgrade",
    `GET / HTTP/1.1\r\n${H}Upgrade: websocket\r\n\r\n`,
    "ok",
    (h) => expect(h.upgrade).toBeUndefined(),
  ],
  [
    "Upgrade on 1.0 ignored",
    "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
    "ok",
    (h) => expect(h.upgrade).toBeUndefined(),
  ],
  [
    "Expect: 100-continue",
    `POST / HTTP/1.1\r\n${H}Expect: 100-Continue\r\nContent-Length: 1\r\n\r\n`,
    "ok",
    (h) => expect(h.expectContinue).toBe(true),
  ],
  [
    "Expect on 1.0 ignored",
    "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
    "ok",
    (h) => expect(h.expectContinue).toBe(false),
  ],
];

describe("parseRequestHead strictness vectors", () => {
  it.each(vectors)("%s", (_name, raw, expected, check) => {
    const r = parse(raw);
    if (expected === "incomplete") expect(r.kind).toBe("incomplete");
    else if (expected === "ok") {
      expect(r, JSON.stringify(r.kind === "error" ? r : r.kind)).toMatchObject({ kind: "head" });
      if (r.kind === "head") check?.(r.head);
    } else {
      expect(r.kind === "error" ? r.status : r.kind).toBe(expected);
    }
  });
});

describe("parseRequestHead fed one byte at a time", () => {
  it.each(vectors)("byte by byte: %s", (_name, raw, _expected, _check) => {
    const bytes = Buffer.from(raw, "latin1");
    const whole = parseRequestHead(bytes, DEFAULT_HEAD_LIMITS);
    const scan = newHeadScan();
    let last: typeof whole = { kind: "incomplete" };
    for (let end = 1; end <= bytes.length; end++) {
      last = parseRequestHead(bytes.subarray(0, end), DEFAULT_HEAD_LIMITS, scan);
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
});

describe("parseRequestHead limits", () => {
  const limits = { maxRequestLine: 64, maxHeadSize: 256, maxHeaders: 4 };
  it("answers 414 for a long request line, even before it ends", () => {
    expect(parse(`GET /${"a".repeat(70)} HTTP/1.1\r\n${H}\r\n`, limits)).toMatchObject({ status: 414 });
    expect(parse(`GET /${"a".repeat(70)}`, limits)).toMatchObject({ status: 414 });
    expect(parse(`GET /${"a".repeat(40)}`, limits)).toEqual({ kind: "incomplete" });
  });
  it("answers 431 for a large head, even before it ends", () => {
    const big = `GET / HTTP/1.1\r\n${H}X: ${"b".repeat(250)}\r\n`;
    expect(parse(`${big}\r\n`, limits)).toMatchObject({ status: 431 });
    expect(parse(big, limits)).toMatchObject({ status: 431 });
  });
  it("answers 431 for too many fields", () => {
    expect(parse(`GET / HTTP/1.1\r\n${H}A: 1\r\nB: 2\r\nC: 3\r\n\r\n`, limits)).toMatchObject({
      kind: "head",
    });
    expect(parse(`GET / HTTP/1.1\r\n${H}A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n`, limits)).toMatchObject({
      status: 431,
    });
  });
  it("reports the bytes consumed and leaves the body and pipelined requests alone", () => {
    const head = `POST /x HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\n`;
    const r = parse(`${head}helloGET / HTTP/1.1\r\n`);
    expect(r).toMatchObject({ kind: "head", length: head.length });
  });
  it("exposes the header fields in order with names lower-cased", () => {
    const r = parse(`GET / HTTP/1.1\r\n${H}X-One: 1\r\nx-two:  2 \r\nX-One: 3\r\n\r\n`);
    if (r.kind !== "head") throw new Error(r.kind);
    expect(r.head.headers).toEqual(["host", "a.example", "x-one", "1", "x-two", "2", "x-one", "3"]);
    expect(r.head.getAll("X-ONE")).toEqual(["1", "3"]);
    expect(r.head.rawName(1)).toBe("X-One");
    expect(r.head.get("missing")).toBeUndefined();
    expect(r.head.method).toBe("GET");
    expect(r.head.target).toBe("/");
  });
});
