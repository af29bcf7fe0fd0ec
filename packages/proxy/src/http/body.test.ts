import { describe, expect, it } from "vitest";
import { ChunkedBody, ContentLengthBody } from "./body.js";

const feedAll = (raw: string, limits?: { maxChunkLine: number; maxTrailerSize: number }) => {
  const body = new ChunkedBody(limits);
  const buf = Buffer.from(raw, "latin1");
  const consumed = body.feed(buf, 0);
  return { consumed, done: body.done, error: body.error };
};

/** [name, bytes, expected: "done" (all consumed), "more" (valid so far), or the error reason] */
const vectors: [string, string, string][] = [
  ["one chunk", "5\r\nhello\r\n0\r\n\r\n", "done"],
  ["several chunks", "1\r\na\r\n2\r\nbc\r\n0\r\n\r\n", "done"],
  ["empty body", "0\r\n\r\n", "done"],
  ["hex upper and lower case", "A\r\n0123456789\r\nb\r\n0123456789a\r\n0\r\n\r\n", "done"],
  ["leading zeros", "0005\r\nhello\r\n0\r\n\r\n", "done"],
  ["many zeros terminate", "000\r\n\r\n", "done"],
  ["extension name", "5;a\r\nhello\r\n0\r\n\r\n", "done"],
  ["extension with token value", "5;a=b;c=d\r\nhello\r\n0\r\n\r\n", "done"],
  ["extension with quoted value", '5;a="b c\\"d"\r\nhello\r\n0\r\n\r\n', "done"],
  ["extension 1;a=b;c (name only last)", "1;a=b;c\r\nx\r\n0\r\n\r\n", "done"],
  ["extension on last chunk", "0;x=y\r\n\r\n", "done"],
  ["trailer fields", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-B: c d\r\n\r\n", "done"],
  ["incomplete data", "5\r\nhel", "more"],
  ["incomplete size line", "5", "more"],
  ["missing final CRLF", "5\r\nhello\r\n0\r\n", "more"],
  ["chunk-size 0x10", "0x10\r\n0123456789abcdef\r\n0\r\n\r\n", "bad-chunk-size"],
  ["chunk-size -1", "-1\r\n\r\n", "bad-chunk-size"],
  ["chunk-size +5", "+5\r\nhello\r\n0\r\n\r\n", "bad-chunk-size"],
  ["chunk-size empty", "\r\nhello\r\n0\r\n\r\n", "bad-chunk-size"],
  ["chunk-size leading space", " 5\r\nhello\r\n0\r\n\r\n", "bad-chunk-size"],
  ["chunk-size trailing space", "5 \r\nhello\r\n0\r\n\r\n", "bad-chunk-size"],
  ["chunk-size trailing tab", "5\t\r\nhello\r\n0\r\n\r\n", "bad-chunk-size"],
  ["chunk-size trailing garbage", "5g\r\nhello\r\n0\r\n\r\n", "bad-chunk-size"],
  ["chunk-size space before extension", "5 ;a=b\r\nhello\r\n0\r\n\r\n", "bad-chunk-size"],
  ["chunk-size overflow", "fffffffffffffffffff\r\n", "chunk-size-overflow"],
  ["chunk-size just over 2^53", "20000000000000\r\n", "chunk-size-overflow"],
  ["chunk-size huge but valid", "1fffffffffffff\r\nabc", "more"],
  ["LF-only chunk-size line", "5\nhello\r\n0\r\n\r\n", "bad-chunk-size"],
  ["CR without LF after size", "5\rhello\r\n0\r\n\r\n", "bare-cr"],
  ["LF-only after data", "5\r\nhello\n0\r\n\r\n", "chunk-data-overrun"],
  ["data longer than size", "3\r\nhello\r\n0\r\n\r\n", "chunk-data-overrun"],
  ["data not followed by CRLF (TE.CL style)", "5\r\nhelloX0\r\n\r\n", "chunk-data-overrun"],
  ["CR then garbage after data", "5\r\nhello\rX", "bare-cr"],
  ["extension without name", "5;\r\nhello\r\n0\r\n\r\n", "bad-chunk-extension"],
  ["extension with space", "5; a=b\r\nhello\r\n0\r\n\r\n", "bad-chunk-extension"],
  ["extension empty value", "5;a=\r\nhello\r\n0\r\n\r\n", "bad-chunk-extension"],
  ["extension bad value char", "5;a=b/c\r\nhello\r\n0\r\n\r\n", "bad-chunk-extension"],
  ["extension unterminated quote", '5;a="b\r\nhello\r\n0\r\n\r\n', "bad-chunk-extension"],
  ["extension NUL", "5;a\0\r\nhello\r\n0\r\n\r\n", "bad-chunk-extension"],
  ["extension garbage after quote", '5;a="b"c\r\nhello\r\n0\r\n\r\n', "bad-chunk-extension"],
  ["trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n", "obs-fold"],
  ["trailer space before colon", "0\r\nX : a\r\n\r\n", "space-before-colon"],
  ["trailer NUL", "0\r\nX: a\0\r\n\r\n", "bad-field-value"],
  ["trailer bare LF", "0\r\nX: a\n\r\n", "bad-field-value"],
  ["trailer LF-only final line", "0\r\n\n", "bare-lf"],
  ["trailer injects Content-Length", "0\r\nContent-Length: 5\r\n\r\n", "forbidden-trailer"],
  ["trailer injects Transfer-Encoding", "0\r\ntransfer-encoding: chunked\r\n\r\n", "forbidden-trailer"],
  ["trailer injects Host", "0\r\nHOST: evil\r\n\r\n", "forbidden-trailer"],
  ["trailer injects Connection", "0\r\nConnection: close\r\n\r\n", "forbidden-trailer"],
  ["trailer field named like a prefix is fine", "0\r\nHosts: x\r\n\r\n", "done"],
  ["trailer without colon", "0\r\nX\r\n\r\n", "bad-field-name"],
  ["final CR without LF", "0\r\n\rX", "bare-cr"],
];

describe("ChunkedBody strictness vectors", () => {
  it.each(vectors)("%s", (_name, raw, expected) => {
    const r = feedAll(raw);
    if (expected === "done") expect(r).toEqual({ consumed: raw.length, done: true, error: undefined });
    else if (expected === "more") expect(r).toEqual({ consumed: raw.length, done: false, error: undefined });
    else {
      expect(r.error).toBe(expected);
      expect(r.done).toBe(false);
      expect(r.consumed).toBeLessThan(raw.length);
    }
  });

  it.each(vectors)("byte by byte: %s", (_name, raw) => {
    const whole = feedAll(raw);
    const body = new ChunkedBody();
    const buf = Buffer.from(raw, "latin1");
    let consumed = 0;
    for (let i = 0; i < buf.length && !body.done && body.error === undefined; i++)
      consumed += body.feed(buf, i, i + 1);
    expect({ consumed, done: body.done, error: body.error }).toEqual(whole);
  });

  it("stops at the end of the body and leaves the next message", () => {
    const raw = Buffer.from("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "latin1");
    const body = new ChunkedBody();
    expect(body.feed(raw, 0)).toBe(15);
    expect(body.done).toBe(true);
    expect(body.feed(raw, 15)).toBe(0);
  });

  it("respects offset and end", () => {
    const raw = Buffer.from("xx3\r\nabc\r\n0\r\n\r\nyy", "latin1");
    const body = new ChunkedBody();
    expect(body.feed(raw, 2, 7)).toBe(5);
    expect(body.feed(raw, 7, raw.length)).toBe(raw.length - 2 - 7);
    expect(body.done).toBe(true);
  });

  it("bounds a chunk-size line and the trailer section", () => {
    const limits = { maxChunkLine: 16, maxTrailerSize: 32 };
    expect(feedAll(`5;a=${"b".repeat(20)}\r\n`, limits).error).toBe("chunk-line-too-long");
    expect(feedAll("5;a=bbbbbbbbbbb\r\nhello\r\n0\r\n\r\n", limits).done).toBe(true);
    expect(feedAll(`0\r\nX: ${"y".repeat(40)}\r\n\r\n`, limits).error).toBe("trailer-too-large");
  });

  it("streams a large chunk without looking at its bytes", () => {
    const body = new ChunkedBody();
    expect(body.feed(Buffer.from("100000\r\n"), 0)).toBe(8);
    const data = Buffer.alloc(0x100000, 0x0a);
    expect(body.feed(data, 0)).toBe(data.length);
    expect(body.feed(Buffer.from("\r\n0\r\n\r\n"), 0)).toBe(7);
    expect(body.done).toBe(true);
  });
});

describe("ContentLengthBody", () => {
  it("takes exactly n bytes across reads", () => {
    const body = new ContentLengthBody(5);
    expect(body.feed(Buffer.from("abc"), 0)).toBe(3);
    expect(body.done).toBe(false);
    expect(body.feed(Buffer.from("deGET"), 0)).toBe(2);
    expect(body.done).toBe(true);
    expect(body.feed(Buffer.from("x"), 0)).toBe(0);
  });
  it("is done at once for n = 0", () => {
    expect(new ContentLengthBody(0).done).toBe(true);
  });
});
