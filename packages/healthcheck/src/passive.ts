/**
 * Passive checks from real traffic, HAProxy `observe layer4|layer7` + `error-limit` + `on-error`.
 * Pure: the caller reports each request's outcome; after `errorLimit` consecutive errors the configured
 * action is returned for the shell to apply, and the counter starts again.
 */
import { HealthCheckConfigError, requireInt } from "./errors.js";

/** What one real request did. `status` is the HTTP status when there was a response. */
export type TrafficOutcome =
  | { kind: "ok"; status?: number }
  | { kind: "connect-error" }
  | { kind: "timeout" }
  | { kind: "reset" }
  | { kind: "response"; status: number };

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
    throw new HealthCheckConfigError("observe", o.observe, "must be layer4 or layer7");
  }
  const onError = o.onError ?? "fail-check";
  if (!ON_ERROR.includes(onError)) {
    throw new HealthCheckConfigError("onError", onError, `must be one of ${ON_ERROR.join(", ")}`);
  }
  return {
    observe: o.observe,
    errorLimit: requireInt("errorLimit", o.errorLimit ?? 10, 1, 1_000_000),
    onError,
  };
}

/** Whether this outcome counts as an error under `observe`. */
export function isError(observe: "layer4" | "layer7", o: TrafficOutcome): boolean {
  switch (o.kind) {
    case "connect-error":
    case "timeout":
    case "reset":
      return true;
    case "ok":
      return false;
    case "response":
      if (observe === "layer4") return false;
      return o.status >= 500 && o.status <= 599 && o.status !== 501 && o.status !== 505;
  }
}

export interface PassiveStep {
  /** Consecutive errors so far. */
  errors: number;
  /** Set when the error limit was reached on this outcome. */
  action?: OnError;
}

export function observe(cfg: PassiveConfig, errors: number, o: TrafficOutcome): PassiveStep {
  if (!isError(cfg.observe, o)) return { errors: 0 };
  const n = errors + 1;
  if (n >= cfg.errorLimit) return { errors: 0, action: cfg.onError };
  return { errors: n };
}
