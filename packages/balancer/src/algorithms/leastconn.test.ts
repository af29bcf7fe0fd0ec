import { describe, expect, it } from "vitest";
import { idOf } from "../../test/support.js";
import { Pool } from "../pool.js";

describe("leastconn", () => {
  it("sends new requests to the server with the fewest in flight", () => {
    const pool = new Pool({ algorithm: "leastconn", servers: [{ id: "a" }, { id: "b" }, { id: "c" }] });
    pool.acquire("a");
    pool.acquire("a");
    pool.acquire("b");
    expect(idOf(pool.pick())).toBe("c");
    pool.acquire("c");
    pool.acquire("c");
    expect(idOf(pool.pick())).toBe("b");
  });

  it("breaks ties round-robin", () => {
    const pool = new Pool({ algorithm: "leastconn", servers: [{ id: "a" }, { id: "b" }, { id: "c" }] });
    expect(Array.from({ length: 6 }, () => idOf(pool.pick())).join("")).toBe("abcabc");
  });

  it("weighs load by weight", () => {
    const pool = new Pool({ algorithm: "leastconn", servers: [{ id: "big", weight: 3 }, { id: "small" }] });
    const counts: Record<string, number> = { big: 0, small: 0 };
    for (let i = 0; i < 400; i++) {
      const r = pool.pick();
      if (!r.ok) throw new Error();
      counts[r.server.id]!++;
      pool.acquire(r.server);
    }
    expect(counts).toEqual({ big: 300, small: 100 });
  });

  it("lists fallbacks least loaded first", () => {
    const pool = new Pool({ algorithm: "leastconn", servers: [{ id: "a" }, { id: "b" }, { id: "c" }] });
    for (let i = 0; i < 3; i++) pool.acquire("a");
    pool.acquire("c");
    expect([...pool.candidates()].map((s) => s.id)).toEqual(["b", "c", "a"]);
  });
});

describe("random(draws)", () => {
  it("with two draws prefers the less loaded of the pair", () => {
    const pool = new Pool({ algorithm: "random(2)", servers: [{ id: "a" }, { id: "b" }] });
    for (let i = 0; i < 10; i++) pool.acquire("a");
    let b = 0;
    for (let i = 0; i < 1_000; i++) if (idOf(pool.pick()) === "b") b++;
    // b wins unless both draws land on a (1/4 of the time)
    expect(b / 1_000).toBeGreaterThan(0.7);
    expect(b / 1_000).toBeLessThan(0.8);
  });
});
