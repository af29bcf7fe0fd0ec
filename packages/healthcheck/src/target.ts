/** A target's mutable record in the shell: its config, health, agent words, weights, and its two schedules. */
import type { ServerState } from "@lbkit/core";
import type { TargetConfig } from "./config.js";
import type { CheckKind, TargetStatus } from "./events.js";
import type { Flight } from "./flights.js";
import type { CheckResult } from "./result.js";
import { type HealthState, healthPhase, initialHealth } from "./state.js";

/** One schedule of a target: its health check, or its agent check (a key space of its own). */
export interface Slot {
  readonly target: Target;
  readonly kind: CheckKind;
  flight: Flight<Slot> | undefined;
}

export interface Target {
  cfg: TargetConfig;
  check: Slot;
  agent: Slot | undefined;
  health: HealthState;
  agentDown: boolean;
  ejected: boolean;
  admin: "ready" | "drain" | "maint" | undefined;
  state: ServerState;
  since: number;
  weightPercent: number | undefined;
  weight: number | undefined;
  maxConn: number | undefined;
  lastResult: CheckResult | undefined;
  checks: number;
  passiveErrors: number;
}

export function newTarget(cfg: TargetConfig, now: number): Target {
  const health = initialHealth(cfg, cfg.initState);
  const t = {
    cfg,
    health,
    agentDown: false,
    ejected: false,
    admin: undefined,
    state: health.up ? "up" : "down",
    since: now,
    weightPercent: undefined,
    maxConn: undefined,
    weight: undefined,
    lastResult: undefined,
    checks: 0,
    passiveErrors: 0,
  } as Omit<Target, "check" | "agent"> as Target;
  t.check = { target: t, kind: "check", flight: undefined };
  t.agent = cfg.agent ? { target: t, kind: "agent", flight: undefined } : undefined;
  return t;
}

export function snapshot(t: Target): TargetStatus {
  const s: TargetStatus = {
    id: t.cfg.id,
    state: t.state,
    healthUp: t.health.up,
    health: t.health.health,
    phase: healthPhase(t.cfg, t.health),
    agentDown: t.agentDown,
    ejected: t.ejected,
    checks: t.checks,
  };
  if (t.admin !== undefined) s.admin = t.admin;
  if (t.weightPercent !== undefined) s.weightPercent = t.weightPercent;
  if (t.weight !== undefined) s.weight = t.weight;
  if (t.maxConn !== undefined) s.maxConn = t.maxConn;
  if (t.lastResult !== undefined) s.lastResult = t.lastResult;
  return s;
}
