import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Hysteresis } from "./hysteresis.js";

describe("route hysteresis", () => {
  it("announces after rise ms of health and withdraws after fall ms of ill-health", () => {
    const h = new Hysteresis(1000, 300, 0);
    h.set(true, 0);
    expect(h.step(999)).toBeUndefined();
    expect(h.step(1000)).toBe("announced");
    h.set(false, 2000);
    expect(h.deadline).toBe(2300);
    h.set(true, 2200); // recovered before fall: nothing changes
    expect(h.deadline).toBeUndefined();
    expect(h.step(5000)).toBeUndefined();
    expect(h.state).toBe("announced");
  });

  it("ill-health spells shorter than fall never withdraw an announced route, however often", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 50 }),
        (rise, fall, gaps) => {
          const h = new Hysteresis(rise, fall, 0);
          h.set(true, 0);
          h.step(rise);
          let now = rise;
          let healthy = true;
          let changes = 0;
          for (const g of gaps) {
            const gap = healthy ? g : Math.min(g, fall - 1); // every ill-health spell shorter than `fall`
            now += Math.max(gap, 0);
            if (h.step(now)) changes++;
            healthy = !healthy;
            h.set(healthy, now);
          }
          expect(changes).toBe(0);
          expect(h.state).toBe("announced");
        },
      ),
      { numRuns: 200 },
    );
  });

  it("health spells shorter than rise never announce a withdrawn route", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 50 }),
        (rise, gaps) => {
          const h = new Hysteresis(rise, 0, 0);
          let now = 0;
          let healthy = false;
          for (const g of gaps) {
            now += healthy ? Math.min(g, rise - 1) : g;
            expect(h.step(now)).toBeUndefined();
            healthy = !healthy;
            h.set(healthy, now);
          }
          expect(h.state).toBe("withdrawn");
        },
      ),
      { numRuns: 200 },
    );
  });
});
