/**
 * Passive checks from real traffic, HAProxy `observe layer4|layer7` + `error-limit` + `on-error`.
 * Pure: the caller reports each request's outcome; after `errorLimit` consecutive errors the configured
 * action is returned for the shell to apply, and the counter starts again.
 */
import type { RequestOutcome } from "@lbkit/core";
import { HealthCheckConfigError, v } from "./errors.js";

export type OnError = "fastinter" | "fail-check" | "sudden-death" | "mark-down";

export interface PassiveOptions {
  /** `layer4`: connection errors and timeouts count. `layer7`: also HTTP 5xx except 501 and 505. */
  observe: "layer4" | "layer7";
  /** Consecutive errors that trigger `onError`. HAProxy default 10. */
  errorLimit?: number;
  /** HAProxy default `fail-check`. */
  onError?: OnError;
}

export interface PassiveConfig {
  observe: "layer4" | "layer7";
  errorLimit: number;
  onError: OnError;
}

const ON_ERROR: readonly OnError[] = ["fastinter", "fail-check", "sudden-death", "mark-down"];

export function passiveConfig(o: PassiveOptions): PassiveConfig {
  if (o.observe !== "layer4" && o.observe !== "layer7") {
    throw new HealthCheckConfigError("passive.observe", o.observe, "must be layer4 or layer7");
  }
  const onError = o.onError ?? "fail-check";
  if (!ON_ERROR.includes(onError)) {
    throw new HealthCheckConfigError("passive.onError", onError, `must be one of ${ON_ERROR.join(", ")}`);
  }
  return {
    observe: o.observe,
    errorLimit: v.int("passive.errorLimit", o.errorLimit ?? 10, 1, 1_000_000),
    onError,
  };
}

/**
 * Whether a request's outcome counts as an error under `observe`, as HAProxy decides: an outcome with an HTTP
 * `status` had a response, so it is never a layer-4 error, and under `layer7` it is one when the status is 5xx
 * other than 501 and 505 (whatever `ok` says); an outcome without a status (connect error, timeout, reset) is
 * an error when `ok` is false.
 */
export function isPassiveError(observe: "layer4" | "layer7", o: RequestOutcome): boolean {
  const status = o.status;
  if (status === undefined) return !o.ok;
  if (observe === "layer4") return false;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

export interface PassiveStep {
  /** Consecutive errors so far. */
  errors: number;
  /** Set when the error limit was reached on this outcome. */
  action?: OnError;
}

/** One request's outcome against `errors` consecutive errors so far: the new count and the action, if due. */
export function passiveStep(cfg: PassiveConfig, errors: number, o: RequestOutcome): PassiveStep {
  if (!isPassiveError(cfg.observe, o)) return { errors: 0 };
  const n = errors + 1;
  if (n >= cfg.errorLimit) return { errors: 0, action: cfg.onError };
  return { errors: n };
}
