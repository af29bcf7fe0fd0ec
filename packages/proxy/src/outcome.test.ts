import { describe, expect, it } from "vitest";
import { outcome } from "./outcome.js";

describe("outcome", () => {
  it("always has the same four fields in the same order, absent ones undefined", () => {
    const shapes = [
      outcome(true, 200, undefined, 1.5),
      outcome(false, undefined, "reset"),
      outcome(true, undefined, "client-abort"),
      outcome(false, 502, "bad-response"),
    ].map((o) => Object.keys(o).join(","));
    expect(new Set(shapes)).toEqual(new Set(["ok,latencyMs,status,code"]));
    expect(outcome(false, undefined, "timeout")).toEqual({ ok: false, code: "timeout" });
    expect(outcome(true, 204, undefined, 3)).toEqual({ ok: true, status: 204, latencyMs: 3 });
  });
});
