import type { Clock, RequestOutcome } from "@lbkit/core";
import type { ObservedOutcome } from "./algorithm.js";
import type { Server, ServerEntry } from "./server.js";

/**
 * One request in flight on a server; `release` ends it (once; later calls do nothing). The outcome is core's
 * `RequestOutcome` (the same value passive health takes): `ok: false` counts as failed in the server's stats;
 * `latencyMs`, when absent or not a finite number >= 0, is measured from `acquire`. Without an outcome the
 * request counts as ok.
 */
export interface Lease<M = unknown> {
  readonly server: Server<M>;
  readonly startedAt: number;
  release(outcome?: RequestOutcome): void;
}

/**
 * Starts a request on `entry` (its in-flight count and peak go up) and returns its lease. `ended` runs once, on
 * the first release, after the server's stats took the outcome.
 */
export function lease<M>(
  entry: ServerEntry<M>,
  clock: Clock,
  ended: (outcome: ObservedOutcome) => void,
): Lease<M> {
  const stats = entry.stats;
  stats.inFlight++;
  if (stats.inFlight > stats.peakInFlight) stats.peakInFlight = stats.inFlight;
  const startedAt = clock.now();
  let released = false;
  return {
    server: entry,
    startedAt,
    release: (outcome?: RequestOutcome) => {
      if (released) return;
      released = true;
      stats.inFlight--;
      const o: Partial<RequestOutcome> = typeof outcome === "object" && outcome !== null ? outcome : {};
      const ok = o.ok !== false;
      const given = o.latencyMs;
      // a missing, negative or non-finite latency is replaced by the measured one
      const latencyMs =
        typeof given === "number" && Number.isFinite(given) && given >= 0 ? given : clock.now() - startedAt;
      if (ok) stats.completed++;
      else stats.failed++;
      stats.totalLatencyMs += latencyMs;
      ended({ ...o, ok, latencyMs });
    },
  };
}
