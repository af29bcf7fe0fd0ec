/** The shell on fake time: outlier ejection, the start spread and ticks (the checks themselves: health-checker.test.ts). */
import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import type { ChangeEvent } from "./events.js";
import { HealthChecker } from "./health-checker.js";
import { up } from "./result.js";

describe("HealthChecker outlier detection", () => {
  it("ejects a target after consecutive 5xx, for base × times ejected, then brings it back", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({
      time,
      random: () => 0,
      outlier: { consecutive5xx: 3, baseEjectionTime: 1000, maxEjectionPercent: 50, interval: 10_000 },
    });
    const changes: ChangeEvent[] = [];
    hc.on("change", (e) => changes.push(e));
    for (const id of ["a", "b", "c", "d"]) {
      hc.add({ id, check: async () => up("L4OK", "ok"), inter: 500, initState: "fully-up" });
    }
    hc.start();
    await time.advance(10);
    const burst = (id: string) => {
      for (let i = 0; i < 3; i++) hc.observe(id, { ok: false, status: 500 });
    };
    burst("a");
    expect(hc.status("a")).toMatchObject({ state: "down", ejected: true, healthUp: true });
    expect(changes.at(-1)).toMatchObject({
      id: "a",
      to: "down",
      code: "OUTLIER",
      reason: "outlier consecutive-5xx: ejected for 1000 ms (ejection 1)",
    });
    burst("b"); // 2 of 4 = 50%: allowed
    burst("c"); // 3 of 4 = 75%: refused
    expect(hc.list().map((s) => s.ejected)).toEqual([true, true, false, false]);
    await time.advance(1000);
    expect(hc.status("a")).toMatchObject({ state: "up", ejected: false });
    burst("a");
    expect(changes.at(-1)?.reason).toBe("outlier consecutive-5xx: ejected for 2000 ms (ejection 2)");
    await time.advance(1999);
    expect(hc.status("a")?.ejected).toBe(true);
    await time.advance(1);
    expect(hc.status("a")?.ejected).toBe(false);
    await hc.stop();
  });
});

describe("HealthChecker start spread", () => {
  it("spreads first checks over one interval from start(), however long after add()", async () => {
    const time = new FakeTime();
    let seed = 1;
    const random = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const hc = new HealthChecker({ time, random, tick: 0 }); // every check at its due time (ticks: below)
    const starts: number[] = [];
    for (let i = 0; i < 1000; i++) {
      hc.add({
        id: `t${i}`,
        check: async () => {
          starts.push(time.now());
          return up("L4OK", "ok");
        },
        inter: 1000,
      });
    }
    await time.advance(60_000); // not started yet: nothing runs
    expect(starts).toEqual([]);
    hc.start();
    await time.advance(999);
    expect(starts).toHaveLength(1000);
    const perTenth = new Array(10).fill(0);
    for (const t of starts) perTenth[Math.floor((t - 60_000) / 100)]++;
    for (const n of perTenth) expect(n).toBeGreaterThan(60);
    await hc.stop();
    // a restart spreads again instead of firing everything at once
    starts.length = 0;
    hc.start();
    await time.advance(100);
    expect(starts.length).toBeLessThan(200);
    await hc.stop();
  });
});

describe("HealthChecker ticks", () => {
  it("one wake per tick starts every check due in it; a late start does not stretch the interval", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0.003, tick: 10 }); // first checks due at 3 ms
    const starts: Record<string, number[]> = { a: [], b: [] };
    for (const id of ["a", "b"]) {
      hc.add({
        id,
        check: async () => {
          starts[id]?.push(time.now());
          return up("L4OK", "ok");
        },
        inter: 1000,
      });
    }
    let wakes = 0;
    const setTimeout = time.setTimeout.bind(time);
    time.setTimeout = (fn, ms) => {
      wakes++;
      return setTimeout(fn, ms);
    };
    await hc.start();
    await time.advance(3000);
    // due at 3, 1003, 2003: started at the tick after, both in one wake, every 1000 ms exactly
    expect(starts).toEqual({ a: [10, 1010, 2010], b: [10, 1010, 2010] });
    expect(wakes).toBeLessThanOrEqual(4);
    await hc.stop();
    const zero = new HealthChecker({ time, random: () => 0.003, tick: 0 });
    const at: number[] = [];
    const check = async () => {
      at.push(time.now());
      return up("L4OK", "ok");
    };
    zero.add({ id: "z", check, inter: 1000 });
    await zero.start();
    await time.advance(1500);
    expect(at.map((t) => t - 3000)).toEqual([3, 1003]);
    await zero.stop();
  });

  it("by default the tick follows the checks due per second: 50 ms at 1,000 a second, 10 ms at 5,000", async () => {
    const time = new FakeTime();
    let i = 0;
    const hc = new HealthChecker({ time, random: () => (i++ % 997) / 997 }); // first checks spread over 1 s
    const starts: number[] = [];
    const check = async () => {
      starts.push(time.now());
      return up("L4OK", "ok");
    };
    const add = (n: number) => {
      for (let k = 0; k < n; k++) hc.add({ id: `t${hc.list().length}`, check, inter: 1000 });
    };
    const startTimes = async (ms: number) => {
      starts.length = 0;
      await time.advance(ms);
      return new Set(starts.map((t) => t - t0));
    };
    add(1000);
    const t0 = time.now();
    await hc.start();
    let at = await startTimes(2000);
    expect(starts.length).toBeGreaterThanOrEqual(1900); // every target, about twice
    for (const t of at) expect(t % 50).toBe(0);
    expect(at.size).toBeLessThanOrEqual(41); // one wake per 50 ms tick
    add(4000); // 5,000 checks a second: 10 ms ticks
    at = await startTimes(2000);
    expect(starts.length).toBeGreaterThanOrEqual(9500);
    for (const t of at) expect(t % 10).toBe(0);
    expect([...at].some((t) => t % 50 !== 0)).toBe(true);
    for (let k = 1000; k < 5000; k++) hc.remove(`t${k}`); // back to 1,000 a second: 50 ms again
    await time.advance(1000);
    at = await startTimes(2000);
    for (const t of at) expect(t % 50).toBe(0);
    await hc.stop();
  });

  it("starts at most batch (default 64) due checks per turn; the rest on the next turns", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0, tick: 0 }); // every first check due at once
    const perTurn = [0]; // checks started in start(), then by each run of the checker's timer
    const setTimeout = time.setTimeout.bind(time);
    time.setTimeout = (fn, ms) =>
      setTimeout(() => {
        perTurn.push(0);
        fn();
      }, ms);
    const check = async () => {
      perTurn[perTurn.length - 1]!++;
      return up("L4OK", "ok");
    };
    for (let k = 0; k < 150; k++) hc.add({ id: `t${k}`, check, inter: 1000 });
    await hc.start();
    await time.advance(100);
    expect(perTurn.filter((n) => n > 0)).toEqual([64, 64, 22]);
    await hc.stop();
  });
});
