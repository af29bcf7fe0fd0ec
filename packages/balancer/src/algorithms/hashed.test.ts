import { describe, expect, it } from "vitest";
import { idOf } from "../../test/support.js";
import { Pool } from "../pool.js";
import { MaglevTable } from "./maglev.js";

const servers = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `s${i}` }));

describe("hash algorithms", () => {
  it("send the same key to the same server", () => {
    for (const alg of [
      "source",
      "uri",
      "url_param(u)",
      "hdr(x-k)",
      "rdp-cookie",
      "hash",
      "consistent",
      "maglev",
      "jump",
    ]) {
      const pool = new Pool({ algorithm: alg, servers: servers(7) });
      const ctx = {
        key: "k1",
        source: "198.18.0.9:1234",
        uri: "/a/b?u=9",
        headers: { "x-k": "v" },
        rdp: "alice",
      };
      const first = idOf(pool.pick(ctx));
      for (let i = 0; i < 20; i++) expect(idOf(pool.pick(ctx)), alg).toBe(first);
    }
  });

  it("fall back to round-robin when the request has no key, as HAProxy does", () => {
    for (const alg of ["url_param(u)", "hdr(x-k)", "rdp-cookie", "source", "maglev"]) {
      const pool = new Pool({ algorithm: alg, servers: servers(3) });
      expect(
        Array.from({ length: 6 }, () => idOf(pool.pick({ uri: "/no-param" }))),
        alg,
      ).toEqual(["s0", "s1", "s2", "s0", "s1", "s2"]);
    }
  });

  it("map-based moves many more keys on a change than the changed server's share; consistent types do not", () => {
    const moved = (alg: string) => {
      const pool = new Pool({ algorithm: alg, servers: servers(10) });
      const keys = Array.from({ length: 5_000 }, (_, i) => `k${i}`);
      const before = keys.map((key) => idOf(pool.pick({ key })));
      pool.setState("s3", "down");
      pool.rebalance();
      return keys.filter((key, i) => idOf(pool.pick({ key })) !== before[i]).length / keys.length;
    };
    // s3 held 10%; its range is gone and every range after it shifts down
    expect(moved("hash")).toBeGreaterThan(0.25);
    for (const alg of ["consistent", "maglev", "jump"]) expect(moved(alg), alg).toBeLessThan(0.12);
  });

  it("maglev uses a prime table of at least 100 entries per server", () => {
    for (const n of [1, 3, 700, 2_000]) {
      const table = new MaglevTable(100);
      for (let i = 0; i < n; i++) table.add({ id: `s${i}`, effectiveWeight: 1 } as never);
      const m = table.tableSize;
      expect(m).toBeGreaterThanOrEqual(100 * n);
      for (let d = 2; d * d <= m; d++) expect(m % d).not.toBe(0);
    }
  });

  it("bounded load moves a hot key's overflow to the next servers on its ring", () => {
    const pool = new Pool({ algorithm: "consistent hash-balance-factor 150", servers: servers(4) });
    const owners = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const r = pool.pick({ key: "hot" });
      if (!r.ok) throw new Error();
      pool.acquire(r.server);
      owners.set(r.server.id, (owners.get(r.server.id) ?? 0) + 1);
    }
    // 40 in flight over 4 servers: average 10, cap ceil(40 × 1.5 / 4) = 15
    expect(Math.max(...owners.values())).toBeLessThanOrEqual(15);
    expect(owners.size).toBeGreaterThan(1);
  });

  it("reject options that do not fit the hash type", () => {
    expect(() => new Pool({ algorithm: "source hash-balance-factor 150" })).toThrow(
      /source\.balanceFactor 150 needs a consistent hashType/,
    );
    expect(() => new Pool({ algorithm: "maglev hash-balance-factor 90" })).toThrow(
      /hash\.balanceFactor 90 must be an integer 101\.\.100000/,
    );
  });
});

describe("ketama ring size", () => {
  it("re-sizes once when a pool that started small grows, instead of keeping thousands of points per weight", () => {
    const pool = new Pool({ algorithm: "consistent", servers: [{ id: "seed" }] });
    pool.pick({ key: "x" });
    for (let i = 0; i < 30; i++) pool.add({ id: `s${i}`, weight: 100 });
    const counts = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const id = idOf(pool.pick({ key: `k${i}` }));
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    // 3001 units of weight: at least 40 points each, not the 16384 a one-server ring was sized with
    const share = (counts.get("s0") ?? 0) / 30_000;
    expect(share).toBeGreaterThan(0.02);
    expect(share).toBeLessThan(0.05);
  });
});
