import type { Clock, RequestOutcome } from "@lbkit/core";
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
 * Who hears a lease end: the pool. `ok` and `latencyMs` are final; `outcome` is what the caller gave (the owner
 * builds an `ObservedOutcome` from the three only when an algorithm reads it).
 */
export interface LeaseOwner<M> {
  leaseEnded(
    entry: ServerEntry<M>,
    ok: boolean,
    latencyMs: number,
    outcome: RequestOutcome | undefined,
  ): void;
}

/**
 * A request in flight: a plain object per request (no closures), since a proxy takes one for every request it
 * forwards. Construction counts it on the server (in-flight and peak); `release` counts it out once.
 */
class ServerLease<M> implements Lease<M> {
  readonly startedAt: number;
  private released = false;

  constructor(
    readonly server: ServerEntry<M>,
    private readonly clock: Clock,
    private readonly owner: LeaseOwner<M>,
  ) {
    const stats = server.stats;
    stats.inFlight++;
    if (stats.inFlight > stats.peakInFlight) stats.peakInFlight = stats.inFlight;
    this.startedAt = clock.now();
  }

  release(outcome?: RequestOutcome): void {
    if (this.released) return;
    this.released = true;
    const stats = this.server.stats;
    stats.inFlight--;
    const o = typeof outcome === "object" && outcome !== null ? outcome : undefined;
    const ok = o?.ok !== false;
    const given = o?.latencyMs;
    // a missing, negative or non-finite latency is replaced by the measured one
    const latencyMs =
      typeof given === "number" && Number.isFinite(given) && given >= 0
        ? given
        : this.clock.now() - this.startedAt;
    if (ok) stats.completed++;
    else stats.failed++;
    stats.totalLatencyMs += latencyMs;
    this.owner.leaseEnded(this.server, ok, latencyMs, o);
  }
}

/** Starts a request on `entry` (its in-flight count and peak go up) and returns its lease; `owner` hears it end. */
export function lease<M>(entry: ServerEntry<M>, clock: Clock, owner: LeaseOwner<M>): Lease<M> {
  return new ServerLease(entry, clock, owner);
}
