/**
 * Drives a load-balancer pool from health-check events, through a structural interface (anything with
 * setState/setWeight/get; `@lbkit/balancer`'s Pool fits) so neither package depends on the other.
 * The binding only sets states and weights: slow start on recovery is the pool's own business.
 */
import type { ServerState } from "../effective.js";
import type { ChangeEvent, MaxConnEvent, TargetStatus, WeightEvent } from "../health-checker.js";

/** What the binding needs from a pool. Weights are integers 0..256, as in HAProxy. */
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
  on(event: "maxconn", fn: (e: MaxConnEvent) => void): unknown;
  off(event: "change", fn: (e: ChangeEvent) => void): unknown;
  off(event: "weight", fn: (e: WeightEvent) => void): unknown;
  off(event: "maxconn", fn: (e: MaxConnEvent) => void): unknown;
  list(): TargetStatus[];
}

export const MAX_WEIGHT = 256;

/** HAProxy semantics: an agent's `NN%` is relative to the server's configured (initial) weight. */
export function weightFor(
  initialWeight: number,
  e: { percent?: number; weight?: number },
): number | undefined {
  let w: number;
  if (e.percent !== undefined) w = Math.round((initialWeight * e.percent) / 100);
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
    if (pool.get(e.id)) pool.setMaxConn?.(e.id, e.maxconn);
  };
  checker.on("change", onChange);
  checker.on("weight", onWeight);
  checker.on("maxconn", onMaxConn);
  if (opts.sync ?? true) {
    for (const s of checker.list()) {
      const server = pool.get(s.id);
      if (!server) continue;
      pool.setState(s.id, s.state);
      const w = weightFor(server.initialWeight, {
        ...(s.weightPercent !== undefined ? { percent: s.weightPercent } : {}),
        ...(s.weight !== undefined ? { weight: s.weight } : {}),
      });
      if (w !== undefined) pool.setWeight(s.id, w);
      if (s.maxconn !== undefined) pool.setMaxConn?.(s.id, s.maxconn);
    }
  }
  return () => {
    checker.off("change", onChange);
    checker.off("weight", onWeight);
    checker.off("maxconn", onMaxConn);
  };
}
