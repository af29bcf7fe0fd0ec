/** Custom check: any async function returning up/down (boolean or word) or a result with a weight. */
import { HealthCheckConfigError } from "../errors.js";
import { type Checker, type CheckResult, down, excerpt, up } from "../result.js";

export type CustomOutcome =
  | boolean
  | "up"
  | "down"
  | { status: "up" | "down"; reason?: string; weightPercent?: number; excerpt?: string };

/** `fn` gets the abort signal (aborted at the timeout); a throw counts as down with the error message. */
export function customCheck(fn: (signal: AbortSignal) => CustomOutcome | Promise<CustomOutcome>): Checker {
  if (typeof fn !== "function") {
    throw new HealthCheckConfigError("custom", typeof fn, "must be a function returning up/down");
  }
  return async ({ signal }) => {
    let out: CustomOutcome;
    try {
      out = await fn(signal);
    } catch (err) {
      return down("CUSTOM", `check threw: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (out === true || out === "up") return up("CUSTOM", "custom check passed");
    if (out === false || out === "down") return down("CUSTOM", "custom check failed");
    if (out && typeof out === "object" && (out.status === "up" || out.status === "down")) {
      const base: CheckResult = {
        status: out.status,
        code: "CUSTOM",
        reason: out.reason ?? `custom check ${out.status}`,
      };
      const ex = excerpt(out.excerpt);
      if (ex !== undefined) base.excerpt = ex;
      if (typeof out.weightPercent === "number" && out.weightPercent >= 0)
        base.weightPercent = out.weightPercent;
      return base;
    }
    return down("CUSTOM", `custom check returned ${JSON.stringify(out)} (want up/down or { status })`);
  };
}
