import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { autoTick, CheckScheduler } from "./scheduler.js";

/** Deterministic pseudo-random in [0, 1). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("CheckScheduler", () => {
  it("spreads the first checks of many keys across one interval", () => {
    const s = new CheckScheduler({ random: lcg(1) });
    for (let i = 0; i < 10_000; i++) s.add(`t${i}`, 0, 1000);
    const perBucket = new Array(10).fill(0);
    for (let t = 0; t < 1000; t++) {
      for (const _ of s.take(t)) perBucket[Math.floor(t / 100)]++;
    }
    // each 100 ms slice gets ~1000 ± 15%, never the whole lot at once
    for (const n of perBucket) expect(n).toBeGreaterThan(850);
    for (const n of perBucket) expect(n).toBeLessThan(1150);
    expect(perBucket.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it("runs at a fixed rate from each check's start, and never two in flight per key", () => {
    const s = new CheckScheduler({ random: () => 0 });
    s.add("a", 0, 0);
    expect(s.take(0)).toEqual(["a"]);
    expect(s.take(5000)).toEqual([]); // still in flight
    s.finish("a", 300, 1000); // took 300 ms
    expect(s.dueAt("a")).toBe(1000);
    expect(s.take(999)).toEqual([]);
    expect(s.take(1000)).toEqual(["a"]);
    s.finish("a", 2500, 1000); // overran: due immediately
    expect(s.dueAt("a")).toBe(2500);
  });

  it("intervalFrom end: a start delayed by the tick does not stretch the interval", () => {
    const s = new CheckScheduler({ random: () => 0, intervalFrom: "end", tick: 50 });
    s.add("a", 0, 0);
    expect(s.take(40)).toEqual(["a"]); // due at 0, started on the tick at 40
    s.finish("a", 240, 300); // ran 200 ms
    expect(s.dueAt("a")).toBe(500); // 300 after an end 200 ms after it was due, as if started at 0
    expect(s.take(560)).toEqual(["a"]); // 60 > tick late: counts from its real start
    s.finish("a", 660, 300);
    expect(s.dueAt("a")).toBe(960);
  });

  it("intervalFrom end measures from the check's end, as HAProxy does", () => {
    const s = new CheckScheduler({ random: () => 0, intervalFrom: "end" });
    s.add("a", 0, 0);
    s.take(0);
    s.finish("a", 200, 300); // a check that timed out after 200 ms
    expect(s.dueAt("a")).toBe(500);
  });

  it("holds the global concurrency limit and starts the earliest due first", () => {
    const s = new CheckScheduler({ concurrency: 2, random: () => 0 });
    s.add("a", 0, 0);
    s.add("b", 1, 0);
    s.add("c", 2, 0);
    expect(s.take(10)).toEqual(["a", "b"]);
    expect(s.nextDue()).toBeUndefined();
    s.finish("b", 20, 100);
    expect(s.take(20)).toEqual(["c"]);
    expect(s.inFlight).toBe(2);
  });

  it("applies spread-checks jitter within ±spread%", () => {
    const s = new CheckScheduler({ spread: 50, random: lcg(7) });
    for (let i = 0; i < 1000; i++) {
      const j = s.jitter(1000);
      expect(j).toBeGreaterThanOrEqual(500);
      expect(j).toBeLessThanOrEqual(1500);
    }
  });

  it("expedite brings a waiting check forward, never back", () => {
    const s = new CheckScheduler({ random: () => 0 });
    s.add("a", 0, 0);
    s.take(0);
    s.finish("a", 10, 1000);
    s.expedite("a", 100, 50);
    expect(s.dueAt("a")).toBe(150);
    s.expedite("a", 120, 5000);
    expect(s.dueAt("a")).toBe(150);
  });

  it("removed keys never come back, re-added keys start fresh", () => {
    const s = new CheckScheduler({ random: () => 0 });
    s.add("a", 0, 0);
    s.remove("a");
    s.add("a", 100, 0);
    expect(s.take(50)).toEqual([]);
    expect(s.take(100)).toEqual(["a"]);
    expect(s.take(100)).toEqual([]);
  });

  // Bounded: 40 runs over 10 s of simulated time at 10 ms steps (~0.5 s in all); the invariants are checked with
  // plain comparisons in the loop (an `expect` per step made this take 3.5–4.6 s), and the test has its own timeout.
  it("property: limits hold and every key keeps being checked under random timing", {
    timeout: 30_000,
  }, () => {
    const SIM_MS = 10_000;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 50 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 50, max: 1000 })), {
          minLength: 30,
          maxLength: 30,
        }),
        fc.integer(),
        (keys, concurrency, spread, durations, seed) => {
          const rnd = lcg(seed);
          const s = new CheckScheduler<number>({ concurrency, spread, random: rnd });
          for (let k = 0; k < keys; k++) s.add(k, 0, 1000);
          const running = new Map<number, number>(); // key → finish time
          const lastStart = new Map<number, number>();
          const starts = new Array<number>(keys).fill(0);
          const violation = (what: string) => {
            throw new Error(`${what} (keys ${keys}, concurrency ${concurrency}, spread ${spread})`);
          };
          // fairness: earliest-due-first means a due key waits behind at most keys/concurrency rounds of
          // the longest check, so the gap between two starts of one key is bounded
          const maxDur = Math.max(...durations.map(([d]) => d));
          const wait = Math.ceil(keys / concurrency) * maxDur + 20;
          for (let now = 0; now <= SIM_MS; now += 10) {
            for (const [key, end] of running) {
              if (end > now) continue;
              running.delete(key);
              s.finish(key, now, durations[key % durations.length]![1]);
            }
            for (const key of s.take(now)) {
              if (running.has(key)) violation(`key ${key} in flight twice at ${now}`);
              const [d, iv] = durations[key % durations.length]!;
              running.set(key, now + d);
              const last = lastStart.get(key);
              const bound =
                last === undefined ? 1000 + wait : Math.max(Math.ceil(iv * (1 + spread / 100)), d) + wait;
              if (now - (last ?? 0) > bound)
                violation(`key ${key} waited ${now - (last ?? 0)} > ${bound} ms`);
              lastStart.set(key, now);
              starts[key]!++;
            }
            if (running.size > concurrency) violation(`${running.size} in flight > ${concurrency}`);
            if (s.inFlight !== running.size) violation(`inFlight ${s.inFlight} != ${running.size}`);
          }
          // no starvation: with enough capacity every key ran more than once; with any capacity some ran
          if ((concurrency * SIM_MS) / 500 >= keys * 2)
            for (let k = 0; k < keys; k++) expect(starts[k]).toBeGreaterThan(1);
          expect(lastStart.size).toBeGreaterThan(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("autoTick: about 50 checks per wake, in ticks of 10..50 ms", () => {
    expect(autoTick(1000)).toBe(50);
    expect(autoTick(2000)).toBe(25);
    expect(autoTick(4000)).toBe(13);
    expect(autoTick(5000)).toBe(10);
    expect(autoTick(10_000)).toBe(10);
    expect(autoTick(100)).toBe(50);
    expect(autoTick(99)).toBe(10); // too few checks to merge wakes: no later starts for nothing
    expect(autoTick(0)).toBe(10);
  });
});
