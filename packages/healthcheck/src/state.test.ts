import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkInterval,
  healthPhase,
  initialHealth,
  markDown,
  type RiseFall,
  recordCheck,
  suddenDeath,
} from "./state.js";

const rf: RiseFall = { rise: 2, fall: 3 };

function run(cfg: RiseFall, init: Parameters<typeof initialHealth>[1], results: boolean[]) {
  let s = initialHealth(cfg, init);
  const transitions: { at: number; to: string }[] = [];
  results.forEach((ok, i) => {
    const step = recordCheck(cfg, s, ok);
    s = step.state;
    if (step.transition) transitions.push({ at: i + 1, to: step.transition });
  });
  return { s, transitions };
}

describe("rise/fall (HAProxy health counter)", () => {
  it("fully up goes down after exactly `fall` failures", () => {
    const r = run(rf, "fully-up", [false, false, false]);
    expect(r.transitions).toEqual([{ at: 3, to: "down" }]);
    expect(run(rf, "fully-up", [false, false]).s.up).toBe(true);
  });

  it("fully down comes up after exactly `rise` successes", () => {
    expect(run(rf, "fully-down", [true, true]).transitions).toEqual([{ at: 2, to: "up" }]);
    expect(run(rf, "fully-down", [true]).s.up).toBe(false);
  });

  it("init-state up goes down at the first failure, down comes up at the first success", () => {
    expect(run(rf, "up", [false]).transitions).toEqual([{ at: 1, to: "down" }]);
    expect(run(rf, "down", [true]).transitions).toEqual([{ at: 1, to: "up" }]);
  });

  it("a success while going down restores the counter; a failure while going up empties it", () => {
    // fail, fail, ok, fail, fail: never three in a row, still up
    expect(run(rf, "fully-up", [false, false, true, false, false]).s.up).toBe(true);
    // ... and the third consecutive failure takes it down
    expect(run(rf, "fully-up", [false, false, true, false, false, false]).transitions).toEqual([
      { at: 6, to: "down" },
    ]);
    expect(run(rf, "fully-down", [true, false, true]).s.up).toBe(false);
    expect(run(rf, "fully-down", [true, false, true, true]).transitions).toEqual([{ at: 4, to: "up" }]);
  });

  it("phase and interval follow srv_getinter: inter up, fastinter transitioning, downinter down", () => {
    const iv = { inter: 1000, fastinter: 100, downinter: 5000 };
    let s = initialHealth(rf, "fully-up");
    expect([healthPhase(rf, s), checkInterval(rf, iv, s)]).toEqual(["up", 1000]);
    s = recordCheck(rf, s, false).state;
    expect([healthPhase(rf, s), checkInterval(rf, iv, s)]).toEqual(["going-down", 100]);
    s = recordCheck(rf, recordCheck(rf, s, false).state, false).state;
    expect([healthPhase(rf, s), checkInterval(rf, iv, s)]).toEqual(["down", 5000]);
    s = recordCheck(rf, s, true).state;
    expect([healthPhase(rf, s), checkInterval(rf, iv, s)]).toEqual(["going-up", 100]);
  });

  it("sudden-death leaves one failure to go, mark-down goes down now", () => {
    const s = initialHealth(rf, "fully-up");
    const sd = suddenDeath(rf, s);
    expect(sd.state.up).toBe(true);
    expect(recordCheck(rf, sd.state, false).transition).toBe("down");
    expect(markDown(rf, s)).toEqual({ state: { up: false, health: 0 }, transition: "down" });
    expect(markDown(rf, { up: false, health: 1 }).transition).toBeUndefined();
  });

  it("property: the same transitions as counting consecutive failures / successes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom("fully-up", "up", "down", "fully-down" as const),
        fc.array(fc.boolean(), { maxLength: 200 }),
        (rise, fall, init, results) => {
          const cfg = { rise, fall };
          let s = initialHealth(cfg, init);
          // reference model: consecutive counts, starting as far from a transition as the init state says
          let up = init === "fully-up" || init === "up";
          let fails = init === "up" ? fall - 1 : 0;
          let oks = init === "down" ? rise - 1 : 0;
          for (const ok of results) {
            const step = recordCheck(cfg, s, ok);
            let want: "up" | "down" | undefined;
            if (ok) {
              fails = 0;
              if (!up && ++oks >= rise) {
                up = true;
                oks = 0;
                want = "up";
              }
            } else {
              oks = 0;
              if (up && ++fails >= fall) {
                up = false;
                fails = 0;
                want = "down";
              }
            }
            expect(step.transition).toBe(want);
            expect(step.state.up).toBe(up);
            expect(step.state.health).toBeGreaterThanOrEqual(0);
            expect(step.state.health).toBeLessThanOrEqual(rise + fall - 1);
            expect(step.state.up).toBe(step.state.health >= rise);
            s = step.state;
          }
        },
      ),
    );
  });

  it("property: from fully up, `fall` consecutive failures always take it down, fewer never do", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 10 }), (rise, fall) => {
        const cfg = { rise, fall };
        const r = run(cfg, "fully-up", Array(fall).fill(false));
        expect(r.transitions).toEqual([{ at: fall, to: "down" }]);
        const back = run(cfg, "fully-down", Array(rise).fill(true));
        expect(back.transitions).toEqual([{ at: rise, to: "up" }]);
      }),
    );
  });
});
