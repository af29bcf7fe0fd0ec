// The request-smuggling and strictness corpus: raw request vectors sent by a client, and raw response vectors
// sent by the origin (for GET /resp/<id>). Sources: RFC 9112 (§2.2 message parsing, §3 request line, §5 fields,
// §6 body length, §7 chunked), and the classic desync families (CL.TE, TE.CL, TE.TE obfuscation, response queue
// poisoning). A hidden request always targets /smuggled and a hidden response carries X-Smuggled, so a desync is
// visible in the transcript. Over 350 lines because it is data, one vector per entry: the corpus reads as one list.

export interface RequestVector {
  kind: "request";
  id: string;
  category: string;
  title: string;
  raw: string;
  /** the methods of the responses the client expects, in order, when one is HEAD */
  methods?: string[];
}
export interface ResponseVector {
  kind: "response";
  id: string;
  category: string;
  title: string;
  /** what the origin sends for GET /resp/<id> */
  response: string;
  /** the origin closes after sending (until-close bodies) */
  close?: boolean;
}
export type Vector = RequestVector | ResponseVector;

const CRLF = "\r\n";
/** A head from its lines (CRLF-joined, CRLF CRLF-terminated) followed by a body. */
const h = (lines: string[], body = "") => lines.join(CRLF) + CRLF + CRLF + body;
const HOST = "Host: x";
/** A complete request a desync would hide inside a body. */
const SMUGGLED = h(["GET /smuggled HTTP/1.1", HOST]);
const req = (
  id: string,
  category: string,
  title: string,
  raw: string,
  methods?: string[],
): RequestVector => ({
  kind: "request",
  id,
  category,
  title,
  raw,
  methods,
});

/** CL.TE-shaped body: by Content-Length 6 it is "0\r\n\r\nX", by chunked it ends before the X. */
const clte = (id: string, title: string, te: string[]) =>
  req(id, "TE obfuscation", title, h(["POST / HTTP/1.1", HOST, "Content-Length: 6", ...te], "0\r\n\r\nX"));
/** TE-obfuscated chunked body hiding a request if the obfuscated TE is ignored and no CL is present. */
const teonly = (id: string, title: string, te: string[]) =>
  req(id, "TE obfuscation", title, h(["POST / HTTP/1.1", HOST, ...te], `0\r\n\r\n${SMUGGLED}`));

const chunkedPost = (id: string, category: string, title: string, body: string, extra: string[] = []) =>
  req(id, category, title, h(["POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked", ...extra], body));
const withHeader = (id: string, category: string, title: string, line: string) =>
  req(id, category, title, h(["GET / HTTP/1.1", HOST, line]));
const clPost = (id: string, category: string, title: string, cl: string[], body: string) =>
  req(id, category, title, h(["POST / HTTP/1.1", HOST, ...cl], body));

export const REQUEST_VECTORS: RequestVector[] = [
  // --- well-formed controls: a strict proxy forwards these
  req("ok-get", "control", "plain GET", h(["GET / HTTP/1.1", HOST])),
  clPost("ok-post-cl", "control", "POST with Content-Length", ["Content-Length: 5"], "hello"),
  chunkedPost("ok-post-chunked", "control", "POST chunked", "5\r\nhello\r\n0\r\n\r\n"),
  chunkedPost("ok-chunk-ext", "control", "chunk extension", "5;name=val\r\nhello\r\n0\r\n\r\n"),
  chunkedPost(
    "ok-trailer",
    "control",
    "chunked with a trailer field",
    "5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
  ),
  req(
    "ok-pipelined",
    "control",
    "two pipelined GETs",
    h(["GET /a HTTP/1.1", HOST]) + h(["GET /b HTTP/1.1", HOST]),
  ),
  req("ok-http10", "control", "HTTP/1.0 GET without Host", h(["GET / HTTP/1.0"])),
  req("ok-absolute-form", "control", "absolute-form matching Host", h(["GET http://x/ HTTP/1.1", HOST])),
  req(
    "ok-expect",
    "control",
    "Expect: 100-continue with body",
    h(["POST / HTTP/1.1", HOST, "Expect: 100-continue", "Content-Length: 5"], "hello"),
  ),
  req(
    "ok-leading-crlf",
    "control",
    "an empty line before the request-line (RFC 9112 §2.2)",
    `\r\n${h(["GET / HTTP/1.1", HOST])}`,
  ),
  req(
    "ok-head-pipelined",
    "control",
    "HEAD then GET pipelined (HEAD response has no body)",
    h(["HEAD / HTTP/1.1", HOST]) + h(["GET /b HTTP/1.1", HOST]),
    ["HEAD", "GET"],
  ),
  withHeader("ok-obs-text", "control", "obs-text byte in a value", "X-Name: caf\xe9"),
  req(
    "ok-get-body",
    "control",
    "GET with a Content-Length body",
    h(["GET / HTTP/1.1", HOST, "Content-Length: 5"], "hello"),
  ),
  // --- CL.TE / TE.CL
  req(
    "cl-te",
    "CL.TE / TE.CL",
    "Content-Length and chunked: CL covers a trailing X",
    h(["POST / HTTP/1.1", HOST, "Content-Length: 6", "Transfer-Encoding: chunked"], "0\r\n\r\nX"),
  ),
  req(
    "te-cl",
    "CL.TE / TE.CL",
    "chunked and Content-Length 4: a chunk hides a request",
    h(
      ["POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked", "Content-Length: 4"],
      `${(SMUGGLED.length).toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`,
    ),
  ),
  req(
    "cl-te-full",
    "CL.TE / TE.CL",
    "CL covers a whole hidden request after the last chunk",
    h(
      ["POST / HTTP/1.1", HOST, `Content-Length: ${5 + SMUGGLED.length}`, "Transfer-Encoding: chunked"],
      `0\r\n\r\n${SMUGGLED}`,
    ),
  ),
  req(
    "te-cl-zero",
    "CL.TE / TE.CL",
    "chunked with Content-Length: 0",
    h(["POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked", "Content-Length: 0"], `0\r\n\r\n${SMUGGLED}`),
  ),
  // --- TE.TE obfuscations (each with a CL.TE-shaped body, then without CL)
  clte("te-xchunked", "Transfer-Encoding: xchunked", ["Transfer-Encoding: xchunked"]),
  clte("te-space-colon", "Transfer-Encoding<SP>: chunked", ["Transfer-Encoding : chunked"]),
  clte("te-tab", "Transfer-Encoding:<TAB>chunked", ["Transfer-Encoding:\tchunked"]),
  clte("te-vtab", "Transfer-Encoding:<VT>chunked", ["Transfer-Encoding:\x0bchunked"]),
  clte("te-ff", "Transfer-Encoding:<FF>chunked", ["Transfer-Encoding:\x0cchunked"]),
  clte("te-chunked-identity", "Transfer-Encoding: chunked, identity", [
    "Transfer-Encoding: chunked, identity",
  ]),
  clte("te-identity-chunked", "Transfer-Encoding: identity, chunked", [
    "Transfer-Encoding: identity, chunked",
  ]),
  clte("te-two-headers", "Transfer-Encoding: chunked + Transfer-Encoding: x", [
    "Transfer-Encoding: chunked",
    "Transfer-Encoding: x",
  ]),
  clte("te-uppercase", "Transfer-Encoding: CHUNKED", ["Transfer-Encoding: CHUNKED"]),
  clte("te-leading-space-line", "<SP>Transfer-Encoding: chunked (folded onto the previous line)", [
    " Transfer-Encoding: chunked",
  ]),
  clte("te-obs-fold", "Transfer-Encoding:<CRLF><SP>chunked", ["Transfer-Encoding:", " chunked"]),
  clte("te-quoted", 'Transfer-Encoding: "chunked"', ['Transfer-Encoding: "chunked"']),
  clte("te-chunked-chunked", "Transfer-Encoding: chunked, chunked", ["Transfer-Encoding: chunked, chunked"]),
  clte("te-nul", "Transfer-Encoding: chunked<NUL>", ["Transfer-Encoding: chunked\x00"]),
  clte("te-cr", "Transfer-Encoding: chunked<CR>x", ["Transfer-Encoding: chunked\rx"]),
  clte("te-gzip-chunked", "Transfer-Encoding: gzip, chunked", ["Transfer-Encoding: gzip, chunked"]),
  clte("te-chunk", "Transfer-Encoding: chunk", ["Transfer-Encoding: chunk"]),
  clte("te-underscore", "Transfer_Encoding: chunked", ["Transfer_Encoding: chunked"]),
  clte("te-semicolon", "Transfer-Encoding: chunked;q=1", ["Transfer-Encoding: chunked;q=1"]),
  clte("te-empty-then-chunked", "Transfer-Encoding: (empty) + Transfer-Encoding: chunked", [
    "Transfer-Encoding:",
    "Transfer-Encoding: chunked",
  ]),
  teonly("te-only-xchunked", "no CL, Transfer-Encoding: xchunked, hidden request", [
    "Transfer-Encoding: xchunked",
  ]),
  teonly("te-only-bare-lf", "no CL, Transfer-Encoding line ended by a bare LF", [
    "X-A: a\nTransfer-Encoding: chunked",
  ]),
  teonly("te-only-identity", "no CL, Transfer-Encoding: identity", ["Transfer-Encoding: identity"]),
  // --- Content-Length
  clPost(
    "cl-dup-same",
    "Content-Length",
    "two Content-Length: 5",
    ["Content-Length: 5", "Content-Length: 5"],
    "hello",
  ),
  clPost(
    "cl-dup-diff",
    "Content-Length",
    "Content-Length 5 and 6",
    ["Content-Length: 5", "Content-Length: 6"],
    "hello!",
  ),
  clPost("cl-list-same", "Content-Length", "Content-Length: 5, 5", ["Content-Length: 5, 5"], "hello"),
  clPost("cl-list-diff", "Content-Length", "Content-Length: 5, 6", ["Content-Length: 5, 6"], "hello!"),
  clPost("cl-plus", "Content-Length", "Content-Length: +5", ["Content-Length: +5"], "hello"),
  clPost("cl-negative", "Content-Length", "Content-Length: -1", ["Content-Length: -1"], "hello"),
  clPost("cl-hex", "Content-Length", "Content-Length: 0x5", ["Content-Length: 0x5"], "hello"),
  clPost("cl-decimal", "Content-Length", "Content-Length: 5.0", ["Content-Length: 5.0"], "hello"),
  clPost("cl-space-inside", "Content-Length", "Content-Length: 5 5", ["Content-Length: 5 5"], "hello"),
  clPost("cl-empty", "Content-Length", "Content-Length: (empty)", ["Content-Length:"], "hello"),
  clPost(
    "cl-overflow-64",
    "Content-Length",
    "Content-Length 2^64+5 (wraps to 5)",
    ["Content-Length: 18446744073709551621"],
    `hello${SMUGGLED}`,
  ),
  clPost(
    "cl-overflow-32",
    "Content-Length",
    "Content-Length 2^32+5 (wraps to 5 in 32 bits)",
    ["Content-Length: 4294967301"],
    `hello${SMUGGLED}`,
  ),
  clPost(
    "cl-huge",
    "Content-Length",
    "Content-Length of 30 digits",
    ["Content-Length: 999999999999999999999999999999"],
    "hello",
  ),
  clPost(
    "cl-leading-zeros",
    "Content-Length",
    "Content-Length: 005 (valid)",
    ["Content-Length: 005"],
    "hello",
  ),
  clPost(
    "cl-space-colon",
    "Content-Length",
    "Content-Length<SP>: 5 hiding a request",
    ["Content-Length : 5"],
    `hello${SMUGGLED}`,
  ),
  clPost("cl-obs-fold", "Content-Length", "Content-Length:<CRLF><SP>5", ["Content-Length:", " 5"], "hello"),
  clPost("cl-vtab", "Content-Length", "Content-Length:<VT>5", ["Content-Length:\x0b5"], "hello"),
  clPost(
    "cl-connection-listed",
    "Content-Length",
    "Connection: Content-Length (a hop-by-hop strip would unframe the body)",
    [`Content-Length: ${SMUGGLED.length}`, "Connection: Content-Length"],
    SMUGGLED,
  ),
  // --- chunked framing
  chunkedPost(
    "chunk-size-overflow",
    "chunked",
    "chunk-size 2^64+5 (wraps to 5)",
    `10000000000000005\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
  ),
  chunkedPost(
    "chunk-size-long-zeros",
    "chunked",
    "chunk-size with 20 leading zeros",
    "000000000000000000005\r\nhello\r\n0\r\n\r\n",
  ),
  chunkedPost("chunk-size-0x", "chunked", "chunk-size 0x5", "0x5\r\nhello\r\n0\r\n\r\n"),
  chunkedPost("chunk-size-plus", "chunked", "chunk-size +5", "+5\r\nhello\r\n0\r\n\r\n"),
  chunkedPost("chunk-size-negative", "chunked", "chunk-size -5", "-5\r\nhello\r\n0\r\n\r\n"),
  chunkedPost("chunk-size-leading-space", "chunked", "chunk-size <SP>5", " 5\r\nhello\r\n0\r\n\r\n"),
  chunkedPost(
    "chunk-size-trailing-space",
    "chunked",
    "chunk-size 5<SP> without extension",
    "5 \r\nhello\r\n0\r\n\r\n",
  ),
  chunkedPost("chunk-size-empty", "chunked", "empty chunk-size line", "\r\nhello\r\n0\r\n\r\n"),
  chunkedPost("chunk-size-bare-lf", "chunked", "chunk-size line ended by bare LF", "5\nhello\r\n0\r\n\r\n"),
  chunkedPost("chunk-last-bare-lf", "chunked", "last chunk and end by bare LF", "5\r\nhello\r\n0\n\n"),
  chunkedPost("chunk-data-no-crlf", "chunked", "chunk data not followed by CRLF", "5\r\nhelloXX0\r\n\r\n"),
  chunkedPost(
    "chunk-data-short",
    "chunked",
    "chunk shorter than its size",
    `5\r\nhel\r\n0\r\n\r\n${SMUGGLED}`,
  ),
  chunkedPost("chunk-data-long", "chunked", "chunk longer than its size", "3\r\nhello\r\n0\r\n\r\n"),
  chunkedPost(
    "chunk-ext-bare-lf",
    "chunked",
    "chunk extension containing a bare LF",
    "5;a\nb\r\nhello\r\n0\r\n\r\n",
  ),
  chunkedPost(
    "chunk-ext-bare-cr",
    "chunked",
    "chunk extension containing a bare CR",
    "5;a\rb\r\nhello\r\n0\r\n\r\n",
  ),
  chunkedPost(
    "chunk-ext-nul",
    "chunked",
    "chunk extension containing NUL",
    "5;a=b\x00c\r\nhello\r\n0\r\n\r\n",
  ),
  chunkedPost("chunk-ext-invalid", "chunked", "chunk extension without a name", "5;=x\r\nhello\r\n0\r\n\r\n"),
  chunkedPost(
    "chunk-ext-long",
    "chunked",
    "a 20 KiB chunk extension",
    `5;a=${"b".repeat(20_480)}\r\nhello\r\n0\r\n\r\n`,
  ),
  chunkedPost(
    "chunk-ext-quoted-crlf",
    "chunked",
    "a quoted chunk-ext value hiding CRLF",
    '5;a="x\r\n0\r\n\r\n"\r\nhello\r\n0\r\n\r\n',
  ),
  chunkedPost(
    "chunk-no-last",
    "chunked",
    "last chunk missing its final CRLF, a request follows",
    `5\r\nhello\r\n0\r\n${SMUGGLED}`,
  ),
  chunkedPost(
    "trailer-cl",
    "chunked",
    "Content-Length in the trailer section",
    "5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n",
  ),
  chunkedPost(
    "trailer-te",
    "chunked",
    "Transfer-Encoding in the trailer section",
    "5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n",
  ),
  chunkedPost(
    "trailer-obs-fold",
    "chunked",
    "obs-fold in a trailer",
    "5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n",
  ),
  chunkedPost("trailer-bare-lf", "chunked", "trailer ended by bare LF", "5\r\nhello\r\n0\r\nX-T: a\n\r\n"),
  chunkedPost(
    "trailer-no-colon",
    "chunked",
    "trailer line without a colon",
    "5\r\nhello\r\n0\r\nGET /smuggled HTTP/1.1\r\n\r\n",
  ),
  // --- header syntax
  withHeader("hdr-obs-fold", "header syntax", "obs-fold on an ordinary field", "X-A: a\r\n b"),
  withHeader("hdr-space-colon", "header syntax", "whitespace before the colon", "X-A : a"),
  withHeader("hdr-tab-colon", "header syntax", "tab before the colon", "X-A\t: a"),
  withHeader("hdr-nul", "header syntax", "NUL in a value", "X-A: a\x00b"),
  withHeader("hdr-cr", "header syntax", "bare CR in a value", "X-A: a\rb"),
  withHeader("hdr-del", "header syntax", "DEL (0x7f) in a value", "X-A: a\x7fb"),
  withHeader("hdr-ctl", "header syntax", "0x01 in a value", "X-A: a\x01b"),
  withHeader("hdr-name-space", "header syntax", "space inside a field name", "X A: b"),
  withHeader("hdr-name-at", "header syntax", "@ in a field name", "X@A: b"),
  withHeader("hdr-name-empty", "header syntax", "empty field name", ": b"),
  withHeader("hdr-no-colon", "header syntax", "a field line without a colon", "X-A"),
  req("hdr-bare-lf-all", "header syntax", "every line ended by bare LF", "GET / HTTP/1.1\nHost: x\n\n"),
  req(
    "hdr-bare-lf-mixed",
    "header syntax",
    "one field ended by bare LF",
    "GET / HTTP/1.1\r\nHost: x\nX-A: a\r\n\r\n",
  ),
  req(
    "hdr-bare-cr-eol",
    "header syntax",
    "a field line ended by bare CR",
    "GET / HTTP/1.1\r\nHost: x\rX-A: a\r\n\r\n",
  ),
  // --- Host and targets
  req("host-missing", "Host / target", "HTTP/1.1 without Host", h(["GET / HTTP/1.1"])),
  req("host-dup-same", "Host / target", "two Host fields, same value", h(["GET / HTTP/1.1", HOST, HOST])),
  req(
    "host-dup-diff",
    "Host / target",
    "two Host fields, different values",
    h(["GET / HTTP/1.1", HOST, "Host: y"]),
  ),
  req("host-space", "Host / target", "Host: a b", h(["GET / HTTP/1.1", "Host: a b"])),
  req("host-at", "Host / target", "Host with userinfo", h(["GET / HTTP/1.1", "Host: u@x"])),
  req("host-slash", "Host / target", "Host with a path", h(["GET / HTTP/1.1", "Host: x/y"])),
  req(
    "absolute-mismatch",
    "Host / target",
    "absolute-form authority disagrees with Host",
    h(["GET http://a/ HTTP/1.1", "Host: b"]),
  ),
  req(
    "absolute-userinfo",
    "Host / target",
    "absolute-form with userinfo",
    h(["GET http://u@x/ HTTP/1.1", HOST]),
  ),
  req("target-space", "Host / target", "space inside the target", h(["GET /a b HTTP/1.1", HOST])),
  req("target-nul", "Host / target", "NUL in the target", h(["GET /a\x00b HTTP/1.1", HOST])),
  req("target-no-slash", "Host / target", "origin-form without a leading slash", h(["GET a HTTP/1.1", HOST])),
  req("target-asterisk-get", "Host / target", "asterisk-form with GET", h(["GET * HTTP/1.1", HOST])),
  req("target-fragment", "Host / target", "a fragment in the target", h(["GET /#frag HTTP/1.1", HOST])),
  // --- request line
  req("method-lowercase", "request line", "lowercase method (a valid token)", h(["get / HTTP/1.1", HOST])),
  req("method-invalid", "request line", "method with '(' (not a token)", h(["GE(T / HTTP/1.1", HOST])),
  req("method-empty", "request line", "empty method", h([" / HTTP/1.1", HOST])),
  req("rl-tab", "request line", "tab as the separator", h(["GET\t/\tHTTP/1.1", HOST])),
  req(
    "rl-double-space",
    "request line",
    "two spaces between method and target",
    h(["GET  / HTTP/1.1", HOST]),
  ),
  req("rl-trailing-space", "request line", "space after the version", h(["GET / HTTP/1.1 ", HOST])),
  req("version-lower", "request line", "http/1.1 in lowercase", h(["GET / http/1.1", HOST])),
  req("version-2", "request line", "HTTP/2.0 on an HTTP/1 connection", h(["GET / HTTP/2.0", HOST])),
  req("version-long", "request line", "HTTP/1.10", h(["GET / HTTP/1.10", HOST])),
  req("version-missing", "request line", "HTTP/0.9-style request line", "GET /\r\n\r\n"),
  req("rl-bare-lf", "request line", "request line ended by bare LF", `GET / HTTP/1.1\n${HOST}\r\n\r\n`),
  // --- sizes
  req("long-target", "sizes", "a 100 KiB target", h([`GET /${"a".repeat(102_400)} HTTP/1.1`, HOST])),
  req(
    "long-header",
    "sizes",
    "one 100 KiB field",
    h(["GET / HTTP/1.1", HOST, `X-A: ${"a".repeat(102_400)}`]),
  ),
  req(
    "many-headers",
    "sizes",
    "1000 fields",
    h(["GET / HTTP/1.1", HOST, ...Array.from({ length: 1000 }, (_, i) => `X-${i}: v`)]),
  ),
  // --- HTTP/1.0, pipelining, Expect, upgrades
  req(
    "http10-te",
    "HTTP/1.0",
    "HTTP/1.0 with chunked (TE is not defined for 1.0)",
    h(["POST / HTTP/1.0", "Transfer-Encoding: chunked"], `0\r\n\r\n${SMUGGLED}`),
  ),
  req(
    "http10-te-cl",
    "HTTP/1.0",
    "HTTP/1.0 with chunked and Content-Length",
    h(["POST / HTTP/1.0", "Content-Length: 6", "Transfer-Encoding: chunked"], "0\r\n\r\nX"),
  ),
  req(
    "pipeline-then-cl-te",
    "pipelining",
    "a good request then a CL.TE one",
    h(["GET /a HTTP/1.1", HOST]) +
      h(["POST / HTTP/1.1", HOST, "Content-Length: 6", "Transfer-Encoding: chunked"], "0\r\n\r\nX"),
  ),
  req(
    "pipeline-garbage",
    "pipelining",
    "a good request then garbage",
    `${h(["GET /a HTTP/1.1", HOST])}GARBAGE\r\n\r\n`,
  ),
  req(
    "pipeline-body-no-length",
    "pipelining",
    "POST without length whose 'body' is a request",
    h(["POST / HTTP/1.1", HOST], SMUGGLED),
  ),
  req(
    "expect-get",
    "Expect",
    "Expect: 100-continue on a GET without body",
    h(["GET / HTTP/1.1", HOST, "Expect: 100-continue"]),
  ),
  req(
    "expect-unknown",
    "Expect",
    "Expect: something-else",
    h(["POST / HTTP/1.1", HOST, "Expect: x-weird", "Content-Length: 5"], "hello"),
  ),
  req(
    "expect-cl-te",
    "Expect",
    "Expect: 100-continue with CL.TE",
    h(
      ["POST / HTTP/1.1", HOST, "Expect: 100-continue", "Content-Length: 6", "Transfer-Encoding: chunked"],
      "0\r\n\r\nX",
    ),
  ),
  req(
    "upgrade-smuggle",
    "upgrade",
    "Connection: upgrade answered 200, a request follows",
    h([
      "GET / HTTP/1.1",
      HOST,
      "Connection: Upgrade",
      "Upgrade: websocket",
      "Sec-WebSocket-Version: 13",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ]) + SMUGGLED,
  ),
  req(
    "upgrade-h2c",
    "upgrade",
    "h2c upgrade with HTTP2-Settings, a request follows",
    h([
      "GET / HTTP/1.1",
      HOST,
      "Connection: Upgrade, HTTP2-Settings",
      "Upgrade: h2c",
      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
    ]) + SMUGGLED,
  ),
  req(
    "upgrade-body-cl",
    "upgrade",
    "Upgrade on a POST whose body is a request",
    h(
      [
        "POST / HTTP/1.1",
        HOST,
        "Connection: Upgrade",
        "Upgrade: websocket",
        `Content-Length: ${SMUGGLED.length}`,
      ],
      SMUGGLED,
    ),
  ),
  req(
    "connection-te",
    "upgrade",
    "Connection: Transfer-Encoding on a chunked body",
    h(
      ["POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked", "Connection: Transfer-Encoding"],
      `0\r\n\r\n${SMUGGLED}`,
    ),
  ),
];

const resp = (id: string, title: string, response: string, close?: boolean): ResponseVector => ({
  kind: "response",
  id,
  category: "response",
  title,
  response,
  close,
});
const INJECTED = h(["HTTP/1.1 200 OK", "X-Smuggled: 1", "Content-Length: 0"]);

export const RESPONSE_VECTORS: ResponseVector[] = [
  resp("resp-ok", "control: a well-formed response", h(["HTTP/1.1 200 OK", "Content-Length: 2"], "ok")),
  resp(
    "resp-ok-chunked",
    "control: chunked response",
    h(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"], "2\r\nok\r\n0\r\n\r\n"),
  ),
  resp(
    "resp-until-close",
    "control: no length, body until close",
    h(["HTTP/1.1 200 OK", "Connection: close"], "ok"),
    true,
  ),
  resp(
    "resp-te-cl",
    "chunked and Content-Length: 0, the chunk holds a response",
    h(
      ["HTTP/1.1 200 OK", "Content-Length: 0", "Transfer-Encoding: chunked"],
      `${INJECTED.length.toString(16)}\r\n${INJECTED}\r\n0\r\n\r\n`,
    ),
  ),
  resp(
    "resp-cl-dup-diff",
    "Content-Length 2 and 40",
    h(["HTTP/1.1 200 OK", "Content-Length: 2", `Content-Length: ${2 + INJECTED.length}`], `ok${INJECTED}`),
  ),
  resp(
    "resp-cl-overflow",
    "Content-Length 2^64+2",
    h(["HTTP/1.1 200 OK", "Content-Length: 18446744073709551618"], `ok${INJECTED}`),
  ),
  resp(
    "resp-cl-invalid",
    "Content-Length: 2x",
    h(["HTTP/1.1 200 OK", "Content-Length: 2x"], `ok${INJECTED}`),
  ),
  resp(
    "resp-extra-bytes",
    "a response followed by an unrequested response",
    h(["HTTP/1.1 200 OK", "Content-Length: 2"], `ok${INJECTED}`),
  ),
  resp(
    "resp-204-body",
    "204 with Content-Length and a body holding a response",
    h(["HTTP/1.1 204 No Content", `Content-Length: ${INJECTED.length}`], INJECTED),
  ),
  resp(
    "resp-bad-chunk",
    "chunk-size zz",
    h(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"], `zz\r\nok\r\n0\r\n\r\n${INJECTED}`),
  ),
  resp(
    "resp-chunk-overflow",
    "chunk-size 2^64+2",
    h(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"], `10000000000000002\r\nok\r\n0\r\n\r\n${INJECTED}`),
  ),
  resp(
    "resp-chunk-bare-lf",
    "chunk-size line ended by bare LF",
    h(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"], "2\nok\r\n0\r\n\r\n"),
  ),
  resp(
    "resp-obs-fold",
    "obs-fold in a response field",
    h(["HTTP/1.1 200 OK", "X-A: a", " b", "Content-Length: 2"], "ok"),
  ),
  resp(
    "resp-space-colon",
    "Content-Length<SP>: 0 then a response",
    h(
      ["HTTP/1.1 200 OK", "Content-Length : 0", "Transfer-Encoding: chunked"],
      `${INJECTED.length.toString(16)}\r\n${INJECTED}\r\n0\r\n\r\n`,
    ),
  ),
  resp(
    "resp-nul",
    "NUL in a response field",
    h(["HTTP/1.1 200 OK", "X-A: a\x00b", "Content-Length: 2"], "ok"),
  ),
  resp(
    "resp-cr-in-value",
    "bare CR in a value hiding a Content-Length",
    h(["HTTP/1.1 200 OK", "X-A: a\rContent-Length: 0", "Content-Length: 2"], "ok"),
  ),
  resp("resp-bare-lf", "response head with bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
  resp(
    "resp-te-gzip",
    "Transfer-Encoding: gzip without chunked (length by close)",
    h(["HTTP/1.1 200 OK", "Transfer-Encoding: gzip"], "ok"),
    true,
  ),
  resp(
    "resp-te-xchunked",
    "Transfer-Encoding: xchunked with Content-Length",
    h(["HTTP/1.1 200 OK", "Transfer-Encoding: xchunked", "Content-Length: 2"], `ok${INJECTED}`),
  ),
  resp("resp-status-4digit", "status 2000", h(["HTTP/1.1 2000 OK", "Content-Length: 2"], "ok")),
  resp(
    "resp-100-then-200",
    "100 Continue then 200 (interim response)",
    h(["HTTP/1.1 100 Continue"]) + h(["HTTP/1.1 200 OK", "Content-Length: 2"], "ok"),
  ),
  resp(
    "resp-trailer-cl",
    "Content-Length in the response trailer",
    h(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"], "2\r\nok\r\n0\r\nContent-Length: 40\r\n\r\n"),
  ),
];

export const VECTORS: Vector[] = [...REQUEST_VECTORS, ...RESPONSE_VECTORS];
