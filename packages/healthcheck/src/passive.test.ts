import type { RequestOutcome } from "@lbkit/core";
import { describe, expect, it } from "vitest";
import { isPassiveError, passiveConfig, passiveStep } from "./passive.js";

describe("passive checks (observe / error-limit / on-error)", () => {
  it("layer4 counts connection errors only; layer7 also 5xx except 501 and 505", () => {
    const r = (status: number): RequestOutcome => ({ ok: status < 500, status });
    expect(isPassiveError("layer4", { ok: false, code: "ECONNREFUSED" })).toBe(true);
    expect(isPassiveError("layer4", { ok: false, code: "timeout" })).toBe(true);
    expect(isPassiveError("layer4", r(500))).toBe(false);
    expect([500, 502, 503, 504, 599].map((s) => isPassiveError("layer7", r(s)))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect([200, 404, 501, 505].map((s) => isPassiveError("layer7", r(s)))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it("fires the action at exactly error-limit consecutive errors, then counts again", () => {
    const cfg = passiveConfig({ observe: "layer4", errorLimit: 3, onError: "sudden-death" });
    const err: RequestOutcome = { ok: false, code: "ECONNRESET" };
    let e = 0;
    const actions: (string | undefined)[] = [];
    for (const o of [err, err, { ok: true }, err, err, err, err]) {
      const s = passiveStep(cfg, e, o);
      e = s.errors;
      actions.push(s.action);
    }
    expect(actions).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      "sudden-death",
      undefined,
    ]);
  });

  it("defaults to HAProxy's error-limit 10 and on-error fail-check; rejects unknown values", () => {
    expect(passiveConfig({ observe: "layer7" })).toEqual({
      observe: "layer7",
      errorLimit: 10,
      onError: "fail-check",
    });
    expect(() => passiveConfig({ observe: "layer3" as "layer4" })).toThrow(
      'healthcheck: passive.observe "layer3" must be layer4 or layer7',
    );
    expect(() => passiveConfig({ observe: "layer4", onError: "explode" as "fastinter" })).toThrow(
      /passive.onError "explode"/,
    );
    expect(() => passiveConfig({ observe: "layer4", errorLimit: 0 })).toThrow(/passive.errorLimit 0/);
  });
});
