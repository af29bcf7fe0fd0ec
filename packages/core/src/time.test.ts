import { describe, expect, it } from "vitest";
import { FakeTime } from "./testing/index.js";
import { sleep, systemTime } from "./time.js";

describe("FakeTime", () => {
  it("fires timers in time order, ties in arming order, and skips cleared ones", async () => {
    const t = new FakeTime(100);
    const seen: string[] = [];
    t.setTimeout(() => seen.push("b@20"), 20);
    t.setTimeout(() => seen.push("a@10"), 10);
    t.setTimeout(() => seen.push("c@20"), 20);
    const gone = t.setTimeout(() => seen.push("cleared"), 5);
    t.clearTimeout(gone);
    expect(t.pending).toBe(3);
    await t.advance(15);
    expect(seen).toEqual(["a@10"]);
    expect(t.now()).toBe(115);
    await t.advance(100);
    expect(seen).toEqual(["a@10", "b@20", "c@20"]);
    expect(t.pending).toBe(0);
    expect(t.now()).toBe(215);
  });

  it("runs a timer armed by a timer within the same advance, at its own due time", async () => {
    const t = new FakeTime();
    const at: number[] = [];
    const tick = () => {
      at.push(t.now());
      if (at.length < 4) t.setTimeout(tick, 10);
    };
    t.setTimeout(tick, 10);
    await t.advance(35);
    expect(at).toEqual([10, 20, 30]);
    await t.advance(10);
    expect(at).toEqual([10, 20, 30, 40]);
  });

  it("lets async code react to a timer before the next one fires", async () => {
    const t = new FakeTime();
    const log: string[] = [];
    (async () => {
      await sleep(t, 10);
      log.push(`woke ${t.now()}`);
      await sleep(t, 10);
      log.push(`woke ${t.now()}`);
    })();
    await t.advance(25);
    expect(log).toEqual(["woke 10", "woke 20"]);
  });

  it("advanceSync and next()", async () => {
    const t = new FakeTime();
    let n = 0;
    t.setTimeout(() => n++, 50);
    t.setTimeout(() => n++, 70);
    t.advanceSync(60);
    expect(n).toBe(1);
    expect(t.nextAt).toBe(70);
    expect(await t.next()).toBe(true);
    expect(t.now()).toBe(70);
    expect(await t.next()).toBe(false);
  });

  it("sleep rejects with the abort reason and clears its timer", async () => {
    const t = new FakeTime();
    const ac = new AbortController();
    const p = sleep(t, 1000, ac.signal);
    ac.abort(new Error("stopped"));
    await expect(p).rejects.toThrow("stopped");
    expect(t.pending).toBe(0);
  });

  it("systemTime is monotonic and its timers fire", async () => {
    const a = systemTime.now();
    await sleep(systemTime, 5);
    expect(systemTime.now()).toBeGreaterThan(a);
  });
});
