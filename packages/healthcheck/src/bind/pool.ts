/**
 * Drives a load-balancer pool from health-check events, through a structural interface (anything with
 * setState/setWeight/get; `@lbkit/balancer`'s Pool fits) so neither package depends on the other.
 * The binding only sets states and weights: slow start on recovery is the pool's own business.
 */
import { MAX_WEIGHT, type ServerState } from "@lbkit/core";
import type { ChangeEvent, MaxConnEvent, TargetStatus, WeightEvent } from "../events.js";

/**
 * What the binding needs from a pool. Weights are integers 0..256 (`MAX_WEIGHT`), as in HAProxy.
 * `@lbkit/balancer`'s `Pool` satisfies it (checked at the type level in test/pool-seams.test.ts).
 */
export interface PoolLike {
  setState(id: string, state: ServerState): void;
  setWeight(id: string, weight: number): void;
  get(id: string): { readonly initialWeight: number } | undefined;
  /** Optional: applies an agent's `maxconn:N` (`@lbkit/balancer`'s Pool has it). */
  setMaxConn?(id: string, maxConn: number): void;
}

/** What the binding needs from a health checker (HealthChecker fits). */
export interface HealthSource {
  on(event: "change", fn: (e: ChangeEvent) => void): unknown;
  on(event: "weight", fn: (e: WeightEvent) => void): unknown;
  on(event: "maxConn", fn: (e: MaxConnEvent) => void): unknown;
  off(event: "change", fn: (e: ChangeEvent) => void): unknown;
  off(event: "weight", fn: (e: WeightEvent) => void): unknown;
  off(event: "maxConn", fn: (e: MaxConnEvent) => void): unknown;
  list(): TargetStatus[];
}

/** HAProxy semantics: an agent's `NN%` is relative to the server's configured (initial) weight. */
export function weightFor(
  initialWeight: number,
  e: { weightPercent?: number; weight?: number },
): number | undefined {
  let w: number;
  if (e.weightPercent !== undefined) w = Math.round((initialWeight * e.weightPercent) / 100);
  else if (e.weight !== undefined) w = Math.round(e.weight);
  else return undefined;
  return Math.min(MAX_WEIGHT, Math.max(0, w));
}

export interface BindPoolOptions {
  /** Push every target's current state (and weight) to the pool right away. Default true. */
  sync?: boolean;
}

/**
 * Keep `pool` in step with `checker`: state changes → `setState`, agent/dynamic weights → `setWeight`, an
 * agent's `maxconn:N` → `setMaxConn` (when the pool has it).
 * Ids the pool does not know are skipped. Returns a function that unbinds.
 */
export function bindPool(checker: HealthSource, pool: PoolLike, opts: BindPoolOptions = {}): () => void {
  const onChange = (e: ChangeEvent) => {
    if (pool.get(e.id)) pool.setState(e.id, e.to);
  };
  const onWeight = (e: WeightEvent) => {
    const server = pool.get(e.id);
    if (!server) return;
    const w = weightFor(server.initialWeight, e);
    if (w !== undefined) pool.setWeight(e.id, w);
  };
  const onMaxConn = (e: MaxConnEvent) => {
    if (pool.get(e.id)) pool.setMaxConn?.(e.id, e.maxConn);
  };
  checker.on("change", onChange);
  checker.on("weight", onWeight);
  checker.on("maxConn", onMaxConn);
  if (opts.sync ?? true) {
    for (const s of checker.list()) {
      const server = pool.get(s.id);
      if (!server) continue;
      pool.setState(s.id, s.state);
      const w = weightFor(server.initialWeight, s);
      if (w !== undefined) pool.setWeight(s.id, w);
      if (s.maxConn !== undefined) pool.setMaxConn?.(s.id, s.maxConn);
    }
  }
  return () => {
    checker.off("change", onChange);
    checker.off("weight", onWeight);
    checker.off("maxConn", onMaxConn);
  };
}
