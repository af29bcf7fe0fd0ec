/** What a `HealthChecker` emits, and what `status()`/`list()` return. */
import type { ServerState } from "@lbkit/core";
import type { HealthCheckError } from "./errors.js";
import type { CheckCode, CheckResult } from "./result.js";
import type { HealthPhase } from "./state.js";

/** A target's health check, or its agent check (HAProxy `agent-check`): two independent schedules. */
export type CheckKind = "check" | "agent";

/** Every check result (the noun event `check`). */
export interface CheckEvent {
  id: string;
  kind: CheckKind;
  result: CheckResult;
  /** How long the check took, ms. */
  duration: number;
  /** The rise/fall verdict and counter after this result. */
  healthUp: boolean;
  health: number;
  phase: HealthPhase;
}

/** What caused a change: a check's code, or the agent, passive checks, outlier detection. */
export type ChangeCode = CheckCode | "AGENT" | "PASSIVE" | "OUTLIER";

/** A target's state changed (the one `change` event). */
export interface ChangeEvent {
  id: string;
  from: ServerState;
  to: ServerState;
  /** Why, e.g. `L7STS: HTTP status 500 not in 200-399` (printable: control characters shown as `.`). */
  reason: string;
  /** When, on the checker's clock (ms). */
  at: number;
  code: ChangeCode;
  /** Duration of the check that caused the change, ms (0 for passive and outlier changes). */
  duration: number;
  /** A short excerpt of the response that caused the change. */
  excerpt?: string;
  /** Time spent in the previous state, ms. */
  since: number;
}

/** A target's weight changed: agent `NN%`, a custom check's `weightPercent`, or an exec check's `misc_dynamic`. */
export interface WeightEvent {
  id: string;
  /** Relative to the server's initial weight (agent `NN%`). */
  weightPercent?: number;
  /** Absolute (keepalived `misc_dynamic`). */
  weight?: number;
}

/** An agent's `maxconn:N` (HAProxy agent-check): the server's connection limit, 0 = none. */
export interface MaxConnEvent {
  id: string;
  maxConn: number;
}

export interface HealthCheckerEvents {
  check: (e: CheckEvent) => void;
  change: (e: ChangeEvent) => void;
  weight: (e: WeightEvent) => void;
  maxConn: (e: MaxConnEvent) => void;
  /** A runtime error (a checker that rejected or ignored its abort); reported as a warning when unheard. */
  error: (err: HealthCheckError) => void;
}

export interface TargetStatus {
  id: string;
  state: ServerState;
  healthUp: boolean;
  health: number;
  phase: HealthPhase;
  agentDown: boolean;
  /** Ejected by outlier detection. */
  ejected: boolean;
  admin?: "ready" | "drain" | "maint";
  weightPercent?: number;
  weight?: number;
  /** The last `maxconn:N` an agent sent. */
  maxConn?: number;
  lastResult?: CheckResult;
  /** Checks run (not counting agent checks). */
  checks: number;
}
