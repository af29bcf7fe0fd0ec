import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normaliseCookie, readCookie, responseCookies } from "./cookie.js";
import { normaliseStick } from "./stick.js";
import { StickTable } from "./stick-table.js";

const T = 1_700_000_000_000; // a wall-clock instant, ms

describe("cookie persistence (pure)", () => {
  const insert = normaliseCookie("cookie", {
    name: "SERVERID",
    indirect: true,
    nocache: true,
    httponly: true,
    secure: true,
  });

  it("insert: a request without the cookie gets Set-Cookie with the attributes and Cache-Control: private", () => {
    const read = readCookie(insert, [], T);
    expect(read).toEqual({ server: undefined, first: 0, last: 0, forward: undefined });
    expect(responseCookies(insert, read, "s1", [], T)).toEqual({
      drop: false,
      lines: "Set-Cookie: SERVERID=s1; path=/; HttpOnly; Secure\r\nCache-Control: private\r\n",
    });
  });

  it("insert indirect: the cookie names the server and is removed from what the server sees", () => {
    const read = readCookie(insert, ["a=1; SERVERID=s2", "b=2"], T);
    expect(read.server).toBe("s2");
    expect(read.forward).toBe("a=1; b=2");
    expect(readCookie(insert, ["SERVERID=s2"], T).forward).toBe("");
    // the same server answered: nothing to set
    expect(responseCookies(insert, read, "s2", [], T).lines).toBe("");
    // another server answered (redispatch): the cookie moves to it
    expect(responseCookies(insert, read, "s3", [], T).lines).toMatch(/^Set-Cookie: SERVERID=s3;/);
  });

  it("insert without indirect forwards the Cookie header unchanged", () => {
    const direct = normaliseCookie("cookie", { name: "SERVERID" });
    expect(readCookie(direct, ["SERVERID=s1; x=y"], T)).toMatchObject({ server: "s1", forward: undefined });
  });

  it("maxidle / maxlife: dated values, expiry, refresh after a quarter of maxidle, first date kept", () => {
    const dated = normaliseCookie("cookie", { name: "SID", maxidle: 600_000, maxlife: 3_600_000 });
    const set = responseCookies(dated, readCookie(dated, [], T), "s1", [], T).lines;
    const value = /SID=([^;]+);/.exec(set)?.[1] as string;
    expect(value.split("|")).toHaveLength(3);
    const again = readCookie(dated, [`SID=${value}`], T + 60_000);
    expect(again.server).toBe("s1");
    expect(responseCookies(dated, again, "s1", [], T + 60_000).lines).toBe(""); // fresh enough
    const later = readCookie(dated, [`SID=${value}`], T + 200_000);
    const refreshed = responseCookies(dated, later, "s1", [], T + 200_000).lines;
    const v2 = /SID=([^;]+);/.exec(refreshed)?.[1] as string;
    expect(v2.split("|")[2]).toBe(value.split("|")[2]); // first-seen kept
    expect(v2.split("|")[1]).not.toBe(value.split("|")[1]);
    expect(readCookie(dated, [`SID=${value}`], T + 601_000).server).toBeUndefined(); // idle too long
    expect(readCookie(dated, [`SID=${v2}`], T + 3_601_000).server).toBeUndefined(); // too old
    expect(readCookie(dated, ["SID=s1"], T).server).toBeUndefined(); // undated while dates are on
  });

  it("prefix: the server's cookie gains `<server>~`, which requests lose on the way back", () => {
    const prefix = normaliseCookie("cookie", { name: "JSESSIONID", mode: "prefix" });
    const read = readCookie(prefix, [], T);
    expect(responseCookies(prefix, read, "s1", ["JSESSIONID=abc; Path=/app", "other=1"], T)).toEqual({
      drop: true,
      lines: "Set-Cookie: JSESSIONID=s1~abc; Path=/app\r\nSet-Cookie: other=1\r\n",
    });
    expect(readCookie(prefix, ["x=1; JSESSIONID=s1~abc"], T)).toMatchObject({
      server: "s1",
      forward: "x=1; JSESSIONID=abc",
    });
    expect(responseCookies(prefix, read, "s1", ["other=1"], T)).toEqual({ drop: false, lines: "" });
  });

  it("rewrite: the server's own cookie value is replaced by the server's persistence value", () => {
    const rewrite = normaliseCookie("cookie", { name: "SERVERID", mode: "rewrite", nocache: true });
    expect(
      responseCookies(rewrite, readCookie(rewrite, [], T), "s9", ["SERVERID=x; HttpOnly"], T).lines,
    ).toBe("Set-Cookie: SERVERID=s9; HttpOnly\r\nCache-Control: private\r\n");
  });

  it("rejects bad options", () => {
    expect(() => normaliseCookie("cookie", { name: "a b" })).toThrow(/cookie.name/);
    expect(() => normaliseCookie("cookie", { name: "a", mode: "prefix", indirect: true })).toThrow(
      /indirect/,
    );
    expect(() => normaliseCookie("cookie", { name: "a", mode: "rewrite", maxidle: 5000 })).toThrow(/maxidle/);
    expect(() => normaliseCookie("cookie", { name: "a", path: "/a b" })).toThrow(/path/);
    expect(() => normaliseCookie("cookie", { name: "a", maxlife: 10 })).toThrow(/maxlife/);
  });
});

describe("stick table (pure)", () => {
  it("expires untouched entries, and a touch keeps one alive", () => {
    const t = new StickTable(10, 1000);
    t.set("k", "s1", 0);
    expect(t.get("k", 999)).toBe("s1");
    expect(t.get("k", 1998)).toBe("s1");
    expect(t.get("k", 2998)).toBeUndefined();
    expect(t.length).toBe(0);
  });

  it("keeps at most `size` entries, dropping the least recently used", () => {
    const t = new StickTable(3, 1_000_000);
    for (const k of ["a", "b", "c"]) t.set(k, k, 1);
    t.get("a", 2);
    t.set("d", "d", 3);
    expect([...t.entries(3)].map((e) => e.key)).toEqual(["c", "a", "d"]);
  });

  it("an entry from a peer is taken only when newer than ours and not already expired", () => {
    const t = new StickTable(10, 1000);
    t.set("k", "s1", 100);
    expect(t.set("k", "s2", 100, 50)).toBeUndefined();
    expect(t.get("k", 100)).toBe("s1");
    expect(t.set("k", "s2", 200, 150)?.server).toBe("s2");
    expect(t.set("j", "s2", 2000, 500)).toBeUndefined();
  });

  it("property: never more than size entries, and get agrees with a model of the last set within expire", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 50 })), {
          maxLength: 200,
        }),
        (ops) => {
          const t = new StickTable(4, 100);
          const model = new Map<string, { server: string; at: number }>();
          let now = 0;
          for (const [isSet, k, dt] of ops) {
            now += dt;
            const key = `k${k}`;
            if (isSet) {
              t.set(key, `s${now}`, now);
              model.set(key, { server: `s${now}`, at: now });
            } else {
              const got = t.get(key, now);
              const m = model.get(key);
              if (got !== undefined) {
                expect(m && now - m.at < 100 && m.server).toBe(got);
                (m as { at: number }).at = now;
              } else if (m && now - m.at < 100) model.delete(key); // evicted by the size bound
            }
            expect(t.length).toBeLessThanOrEqual(4);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("stick on (pure)", () => {
  const facts = {
    source: "192.0.2.7",
    query: "a=1&user=bob",
    header: (n: string) => ({ "x-user": "alice", cookie: "x=1; sess=42" })[n],
  };
  it.each([
    ["src", "192.0.2.7"],
    ["hdr(X-User)", "alice"],
    ["cookie(sess)", "42"],
    ["url_param(user)", "bob"],
  ] as const)("%s", (on, key) => {
    expect(normaliseStick("stick", { on }, "http").key(facts)).toBe(key);
  });
  it("rejects request keys in tcp and unknown forms", () => {
    expect(() => normaliseStick("stick", { on: "hdr(x)" }, "tcp")).toThrow(/tcp/);
    expect(() => normaliseStick("stick", { on: "path" as "src" }, "http")).toThrow(/stick.on/);
    expect(() => normaliseStick("stick", { size: 0 }, "http")).toThrow(/stick.size/);
  });
});

describe("peers line codec (pure)", () => {
  it("round-trips hello and entries, and rejects malformed lines", async () => {
    const { decodeLine, encodeEntry, encodeHello, LineSplitter } = await import("./peers-codec.js");
    expect(decodeLine(encodeHello("lb1").trimEnd())).toEqual({ kind: "hello", node: "lb1" });
    const e = { backend: "web", key: 'a "key"\n with LF', server: "s1", age: 12 };
    expect(decodeLine(encodeEntry(e).trimEnd())).toEqual({ kind: "entry", ...e });
    for (const bad of [
      "",
      "{",
      "[]",
      '{"hello":"other/1","node":"x"}',
      '{"b":"w","k":"k","s":"s","age":-1}',
      '{"b":1,"k":"k","s":"s","age":1}',
    ])
      expect(decodeLine(bad)).toBeUndefined();
    const split = new LineSplitter();
    expect(split.push('{"a"')).toEqual([]);
    expect(split.push(':1}\n{"b":2}\n{')).toEqual(['{"a":1}', '{"b":2}']);
    expect(split.push("x".repeat(70_000))).toBeUndefined();
  });
});

describe("server cookie values", () => {
  it("must be cookie-safe", async () => {
    const { ReverseProxy } = await import("../proxy.js");
    const build = (cookie: string) =>
      new ReverseProxy({
        frontends: [],
        backends: [{ id: "be", servers: [{ id: "s", address: "127.0.0.1", port: 1, cookie }] }],
      });
    expect(() => build("a|b")).toThrow(/cookie/);
    expect(() => build("a;b")).toThrow(/cookie/);
    expect(() => build("w1")).not.toThrow();
  });
});
