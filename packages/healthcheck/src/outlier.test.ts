import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OutlierDetector } from "./outlier.js";

const five = { ok: false, status: 500 } as const;
const gw = { ok: false, status: 503 } as const;
const ok = { ok: true } as const;

function detector(n: number, opts: ConstructorParameters<typeof OutlierDetector>[0] = {}) {
  const d = new OutlierDetector({ maxEjectionPercent: 100, ...opts }, 0);
  for (let i = 0; i < n; i++) d.addHost(`h${i}`);
  return d;
}

describe("OutlierDetector (Envoy semantics)", () => {
  it("ejects at consecutive 5xx; a success resets the run", () => {
    const d = detector(3, { consecutive5xx: 3 });
    expect(d.report("h0", five, 0)).toEqual([]);
    expect(d.report("h0", five, 0)).toEqual([]);
    d.report("h0", ok, 0);
    d.report("h0", five, 0);
    d.report("h0", five, 0);
    expect(d.report("h0", five, 5)).toEqual([
      { type: "eject", id: "h0", reason: "consecutive-5xx", until: 30_005, ejections: 1 },
    ]);
    expect(d.isEjected("h0")).toBe(true);
  });

  it("gateway failures (502/503/504 and connection errors) have their own threshold", () => {
    const d = detector(3, { consecutive5xx: 0, consecutiveGatewayFailure: 2 });
    d.report("h1", { ok: false, code: "ECONNREFUSED" }, 0);
    expect(d.report("h1", gw, 0)[0]).toMatchObject({ type: "eject", reason: "consecutive-gateway-failure" });
  });

  it("ejection time grows with each ejection (base × times ejected, capped) and decays while healthy", () => {
    const d = detector(2, {
      consecutive5xx: 1,
      baseEjectionTime: 1000,
      maxEjectionTime: 2500,
      interval: 10_000,
    });
    const eject = (now: number) => d.report("h0", five, now)[0];
    expect(eject(0)).toMatchObject({ until: 1000, ejections: 1 });
    expect(d.tick(1000)).toEqual([{ type: "uneject", id: "h0" }]);
    expect(eject(1000)).toMatchObject({ until: 3000, ejections: 2 });
    d.tick(3000);
    expect(eject(3000)).toMatchObject({ until: 5500, ejections: 3 }); // capped at maxEjectionTime
    d.tick(5500);
    // healthy for two sweeps: multiplier 3 → 1
    d.tick(10_000);
    d.tick(20_000);
    expect(d.ejections("h0")).toBe(1);
    expect(eject(20_001)).toMatchObject({ until: 22_001, ejections: 2 });
  });

  it("never ejects more than maxEjectionPercent, but always allows one", () => {
    const d = new OutlierDetector({ consecutive5xx: 1, maxEjectionPercent: 10 }, 0);
    for (let i = 0; i < 10; i++) d.addHost(`h${i}`);
    expect(d.report("h0", five, 0)).toHaveLength(1); // 1 of 10 = 10%: allowed
    expect(d.report("h1", five, 0)).toEqual([]); // 2 of 10 = 20%: refused
    const tiny = new OutlierDetector({ consecutive5xx: 1, maxEjectionPercent: 0 }, 0);
    tiny.addHost("a");
    tiny.addHost("b");
    expect(tiny.report("a", five, 0)).toHaveLength(1); // at least one host regardless
    expect(tiny.report("b", five, 0)).toEqual([]);
  });

  it("success-rate ejection removes the host below mean − 1.9σ", () => {
    const d = detector(6, { consecutive5xx: 0, consecutiveGatewayFailure: 0, successRateRequestVolume: 100 });
    for (let h = 0; h < 6; h++) {
      for (let i = 0; i < 100; i++) d.report(`h${h}`, h === 5 && i % 2 === 0 ? five : ok, 100);
    }
    expect(d.tick(9_999)).toEqual([]);
    expect(d.tick(10_000)).toEqual([
      { type: "eject", id: "h5", reason: "success-rate", until: 40_000, ejections: 1 },
    ]);
    // too few hosts with volume: no analysis
    const small = detector(6, { successRateMinimumHosts: 5 });
    for (let h = 0; h < 4; h++) for (let i = 0; i < 100; i++) small.report(`h${h}`, h === 3 ? five : ok, 1);
    expect(small.tick(10_000).filter((a) => a.type === "eject" && a.reason === "success-rate")).toEqual([]);
  });

  it("rejects bad config", () => {
    expect(() => new OutlierDetector({ baseEjectionTime: 1000, maxEjectionTime: 10 })).toThrow(
      "healthcheck: maxEjectionTime 10 is below baseEjectionTime 1000 (raise maxEjectionTime)",
    );
    expect(() => new OutlierDetector({ maxEjectionPercent: 150 })).toThrow(/maxEjectionPercent 150/);
  });
});

describe("OutlierDetector properties", () => {
  it("never exceeds max ejection percent (beyond the one always allowed), ejection time = base × n capped", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 19 }),
            fc.constantFrom(200, 500, 502, 503, 404),
            fc.integer({ min: 0, max: 400 }),
          ),
          { maxLength: 300 },
        ),
        (hosts, maxPct, events) => {
          const base = 100;
          const max = 1000;
          const d = new OutlierDetector(
            {
              consecutive5xx: 2,
              consecutiveGatewayFailure: 2,
              baseEjectionTime: base,
              maxEjectionTime: max,
              maxEjectionPercent: maxPct,
              interval: 1000,
            },
            0,
          );
          for (let h = 0; h < hosts; h++) d.addHost(`h${h}`);
          let now = 0;
          for (const [h, status, dt] of events) {
            now += dt;
            const actions = [...d.tick(now), ...d.report(`h${h % hosts}`, { ok: status < 500, status }, now)];
            for (const a of actions) {
              if (a.type !== "eject") continue;
              expect(a.until - now).toBe(Math.min(base * a.ejections, max));
            }
            const ejected = d.ejectedCount();
            expect(ejected <= 1 || (ejected * 100) / hosts <= maxPct).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
