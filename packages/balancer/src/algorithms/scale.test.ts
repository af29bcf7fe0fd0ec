// Hash tables at scale: bounded sizes, changes that touch only the changed server, and replacements built off the
// hot path while the previous table serves (and no pick returns a server that is not usable meanwhile).
import { describe, expect, it } from "vitest";
import { idOf } from "../../test/support.js";
import { Pool } from "../pool.js";
import { PICK_BUDGET } from "./hashed.js";
import { KetamaRing, MAX_RING_POINTS } from "./ketama.js";
import { MAX_TABLE, MaglevTable } from "./maglev.js";

const weighted = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `s${i}`, weight: 1 + ((i * 7919) % 256) }));
const member = (id: string, weight: number) => ({ id, effectiveWeight: weight }) as never;

describe("Ketama at scale", () => {
  it("caps the ring near 2^20 points and changes only the changed server's points", () => {
    const ring = new KetamaRing(undefined);
    const servers = weighted(12_000).map((s) => ({ ...s, effectiveWeight: s.weight }));
    for (const s of servers) ring.add(s as never);
    const size = ring.ringSize; // built here, at once
    // 12,000 servers of weights 1..256 are ~1.5 M units of weight: 40 points each would be 62 M
    expect(size).toBeLessThanOrEqual(MAX_RING_POINTS * 1.01);
    expect(size).toBeGreaterThan(MAX_RING_POINTS * 0.9);
    const s = servers[7]!;
    const before = [...Array(2_000).keys()].map((k) => ring.owner((k * 2654435761) >>> 0));
    (s as { effectiveWeight: number }).effectiveWeight = 1;
    ring.reweight(s as never);
    const after = [...Array(2_000).keys()].map((k) => ring.owner((k * 2654435761) >>> 0));
    // only keys to or from the changed server move
    for (let k = 0; k < before.length; k++)
      if (before[k] !== after[k]) expect([before[k], after[k]]).toContain(s);
    expect(ring.pending).toBe(false);
  }, 60_000);

  it("a ring sized for a small pool is re-sized in slices as the pool grows, serving all the while", () => {
    const ring = new KetamaRing(undefined);
    ring.add(member("seed", 1));
    expect(ring.ringSize).toBe(16_384);
    for (let i = 0; i < 60; i++) ring.add(member(`s${i}`, 100));
    // the re-sized ring is pending, the current one serves every member
    expect(ring.pending).toBe(true);
    expect(ring.owner(12345)).toBeDefined();
    let picks = 0;
    while (ring.pending) {
      ring.work(PICK_BUDGET);
      picks++;
    }
    expect(picks).toBeGreaterThan(1);
    // 6,001 units of weight at 40 points each (the ring is re-sized when 2× off that, so up to 80 each)
    expect(ring.ringSize).toBeGreaterThanOrEqual(40 * 6_001);
    expect(ring.ringSize).toBeLessThanOrEqual(80 * 6_001);
  }, 60_000);
});

describe("Maglev at scale", () => {
  it("caps the table at MAX_TABLE entries", () => {
    const table = new MaglevTable(100);
    for (let i = 0; i < 50_000; i++) table.add(member(`s${i}`, 1));
    expect(table.tableSize).toBe(MAX_TABLE);
  }, 60_000);

  it("replaces its table a slice per pick; picks never return a down server meanwhile", () => {
    const servers = weighted(2_000);
    const pool = new Pool({ algorithm: "maglev", servers });
    const down = new Set(servers.filter((_, i) => i % 7 === 0).map((s) => s.id));
    for (const id of down) pool.setState(id, "down");
    let k = 0;
    for (; k < 100; k++) {
      const r = pool.pick({ key: `key-${k}` });
      expect(r.ok && !down.has(r.server.id)).toBe(true);
    }
    // a table built in slices between picks is the table built at once
    const reference = new Pool({ algorithm: "maglev", servers });
    for (const id of down) reference.setState(id, "down");
    reference.rebalance();
    pool.rebalance();
    const keys = Array.from({ length: 500 }, (_, i) => `probe-${i}`);
    expect(keys.map((key) => idOf(pool.pick({ key })))).toEqual(
      keys.map((key) => idOf(reference.pick({ key }))),
    );
  }, 60_000);
});

describe("map-based at scale", () => {
  it("depends only on the usable set: servers that leave and come back restore the mapping", () => {
    const pool = new Pool({ algorithm: "hash", servers: weighted(5_000) });
    const keys = Array.from({ length: 2_000 }, (_, i) => `k${i}`);
    const before = keys.map((key) => idOf(pool.pick({ key })));
    for (let i = 0; i < 5_000; i += 13) pool.setState(`s${i}`, "maint");
    for (const key of keys) expect(pool.get(idOf(pool.pick({ key })))!.state).toBe("up");
    for (let i = 0; i < 5_000; i += 13) pool.setState(`s${i}`, "up");
    expect(keys.map((key) => idOf(pool.pick({ key })))).toEqual(before);
  }, 60_000);
});
