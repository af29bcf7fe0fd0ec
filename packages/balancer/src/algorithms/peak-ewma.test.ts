import { FakeTime, seeded } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { idOf } from "../../test/support.js";
import { Pool } from "../pool.js";
import { peakEwma } from "./peak-ewma.js";

describe("peak-ewma", () => {
  const setup = () => {
    const clock = new FakeTime();
    const pool = new Pool({
      clock,
      random: seeded(7),
      algorithm: peakEwma({ decay: 1_000, initialLatency: 10 }),
      servers: [{ id: "fast" }, { id: "slow" }, { id: "ok" }],
    });
    /** Run n requests, each taking the server's latency, and count where they went. */
    const run = (n: number, latency: Record<string, number>) => {
      const counts: Record<string, number> = { fast: 0, slow: 0, ok: 0 };
      for (let i = 0; i < n; i++) {
        const r = pool.pick();
        if (!r.ok) throw new Error();
        counts[r.server.id]!++;
        const lease = pool.acquire(r.server);
        clock.advanceSync(1);
        lease.release({ ok: true, latencyMs: latency[r.server.id]! });
      }
      return counts;
    };
    return { clock, pool, run };
  };

  it("sheds load from a server that slows down, at once", () => {
    const { run } = setup();
    run(300, { fast: 10, slow: 10, ok: 10 });
    const counts = run(600, { fast: 5, slow: 400, ok: 20 });
    expect(counts.slow).toBeLessThan(20);
    expect(counts.fast).toBeGreaterThan(counts.ok!);
  });

  it("lets a recovered server win traffic back as its peak decays", () => {
    const { clock, pool, run } = setup();
    run(100, { fast: 10, slow: 1_000, ok: 10 });
    clock.advanceSync(10_000); // ten time constants
    const counts = run(900, { fast: 10, slow: 10, ok: 10 });
    expect(counts.slow).toBeGreaterThan(150);
    expect(pool.get("slow")!.stats.completed).toBeGreaterThan(150);
  });

  it("counts work in flight: a server with a queue is avoided", () => {
    const { pool } = setup();
    for (let i = 0; i < 20; i++) pool.acquire("fast");
    let fast = 0;
    for (let i = 0; i < 300; i++) if (idOf(pool.pick()) === "fast") fast++;
    expect(fast).toBe(0);
  });
});

describe("peak-ewma with no latency estimate", () => {
  it("does not treat a zero estimate with work in flight as free (Finagle's penalty)", () => {
    const pool = new Pool({
      random: seeded(3),
      algorithm: peakEwma({ initialLatency: 0 }),
      servers: [{ id: "a" }, { id: "b" }],
    });
    for (let i = 0; i < 5; i++) pool.acquire("a");
    let a = 0;
    for (let i = 0; i < 200; i++) if (idOf(pool.pick()) === "a") a++;
    // a is chosen only when both draws land on it
    expect(a).toBeLessThan(80);
  });
});
