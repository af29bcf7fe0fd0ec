import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ResponseReader } from "./http-response.js";

const b = (s: string) => Buffer.from(s, "latin1");

function feed(method: string, parts: string[], close = false, maxBody = 16384) {
  const r = new ResponseReader(method, 16384, maxBody);
  let st = r.push(b(""));
  for (const p of parts) st = r.push(b(p));
  if (close && st.kind === "more") st = r.end();
  return { r, st };
}

describe("ResponseReader", () => {
  it("Content-Length body", () => {
    const { r, st } = feed("GET", ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"]);
    expect(st.kind).toBe("done");
    expect(r.head?.status).toBe(200);
    expect(r.head?.headers.get("x-a")).toBe("1");
    expect(r.body.toString()).toBe("hello");
  });

  it("chunked body, split anywhere, with extensions and trailers", () => {
    const wire =
      "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\ndown\r\n6\r\n: disk\r\n0\r\nX-T: 1\r\n\r\n";
    const { r, st } = feed("GET", [wire]);
    expect(st.kind).toBe("done");
    expect(r.head?.status).toBe(503);
    expect(r.body.toString()).toBe("down: disk");
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: wire.length - 1 }), { maxLength: 8 }), (cuts) => {
        const at = [...new Set(cuts)].sort((x, y) => x - y);
        const parts: string[] = [];
        let prev = 0;
        for (const c of at) {
          parts.push(wire.slice(prev, c));
          prev = c;
        }
        parts.push(wire.slice(prev));
        const out = feed("GET", parts);
        expect(out.st.kind).toBe("done");
        expect(out.r.body.toString()).toBe("down: disk");
      }),
    );
  });

  it("close-delimited body, no body for HEAD/204/304, interim 100 skipped", () => {
    const c = feed("GET", ["HTTP/1.0 200 OK\r\n\r\npart1", "part2"], true);
    expect(c.st.kind).toBe("done");
    expect(c.r.body.toString()).toBe("part1part2");
    expect(feed("HEAD", ["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"]).st.kind).toBe("done");
    expect(feed("GET", ["HTTP/1.1 204 No Content\r\n\r\n"]).st.kind).toBe("done");
    const cont = feed("GET", [
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    ]);
    expect(cont.r.head?.status).toBe(201);
    expect(cont.r.body.toString()).toBe("ok");
  });

  it("keeps at most maxBody bytes and is done once it has them", () => {
    const { r, st } = feed(
      "GET",
      ["HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", "x".repeat(300)],
      false,
      128,
    );
    expect(st.kind).toBe("done");
    expect(r.body.length).toBe(128);
  });

  it("tolerates bare-LF line endings", () => {
    const { r, st } = feed("GET", ["HTTP/1.0 200 OK\nContent-Length: 2\n\nok"]);
    expect(st.kind).toBe("done");
    expect(r.body.toString()).toBe("ok");
  });

  it("rejects what is not HTTP and a head that never ends", () => {
    expect(feed("GET", ["SSH-2.0-OpenSSH_9.6\r\n\r\n"]).st).toMatchObject({ kind: "error" });
    expect(feed("GET", ["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"]).st).toMatchObject({ kind: "error" });
    expect(feed("GET", [`HTTP/1.1 200 OK\r\nX: ${"a".repeat(20000)}`]).st).toMatchObject({
      kind: "error",
      message: "response head over 16384 bytes",
    });
    expect(feed("GET", ["HTTP/1.1 200"], true).st).toMatchObject({ kind: "error" });
    expect(feed("GET", ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]).st).toMatchObject({
      kind: "error",
    });
  });

  it("the head limit holds however the bytes arrive: a 60 KB head in one chunk or split is an error", () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(60 * 1024)}\r\nContent-Length: 2\r\n\r\nok`;
    const whole = feed("GET", [big]);
    expect(whole.st).toEqual({ kind: "error", message: "response head over 16384 bytes" });
    for (const cut of [1, 100, 16_383, 16_384, 16_385, 40_000, big.length - 3]) {
      const split = feed("GET", [big.slice(0, cut), big.slice(cut)]);
      expect(split.st).toEqual({ kind: "error", message: "response head over 16384 bytes" });
    }
    // interim heads count toward the limit too
    const interim = `HTTP/1.1 100 Continue\r\nX-A: ${"b".repeat(10_000)}\r\n\r\n`;
    const twice = feed("GET", [`${interim}${interim}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`]);
    expect(twice.st.kind).toBe("error");
    // just under the limit is fine, in one chunk or byte by byte
    const fits = `HTTP/1.1 200 OK\r\nX-A: ${"c".repeat(16_384 - 50)}\r\nContent-Length: 2\r\n\r\nok`;
    expect(fits.indexOf("\r\n\r\n") + 4).toBeLessThanOrEqual(16_384);
    expect(feed("GET", [fits]).st.kind).toBe("done");
    expect(feed("GET", [...fits]).st.kind).toBe("done");
  });
});
