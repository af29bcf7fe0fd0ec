import { type Clock, type ServerState, showValue } from "@lbkit/core";
import { type AlgorithmEnv, checkAlgorithm } from "./algorithm.js";
import { first as firstAlgorithm } from "./algorithms/first.js";
import { fallbackCandidates, live } from "./candidates.js";
import { contextOf, EMPTY_CONTEXT, type PickContext, cookie as readCookie } from "./context.js";
import { BalancerError, configError } from "./errors.js";
import { type Lease, type LeaseOwner, lease } from "./lease.js";
import { type PoolOptions, readPoolOptions } from "./pool-options.js";
import {
  checkMaxConn,
  checkState,
  checkWeight,
  type ServerEntry as Entry,
  type Server,
  ServerEntry,
  type ServerSpec,
} from "./server.js";
import { ramp } from "./slow-start.js";
import { Tier } from "./tier.js";

export type { PoolOptions } from "./pool-options.js";

/** Returned instead of throwing when nothing can take the request. */
export interface NoServerAvailable {
  ok: false;
  reason: "no-server-available";
  message: string;
}

export type PickResult<M = unknown> = { ok: true; server: Server<M> } | NoServerAvailable;

export type { Lease } from "./lease.js";

export interface PoolStats {
  algorithm: string;
  servers: number;
  usable: number;
  usableBackups: number;
  inFlight: number;
}

/**
 * A backend: servers with weights and states, balanced by one algorithm. Pure bookkeeping, no I/O and no timers:
 * time comes from the injected clock, and every change updates the algorithm incrementally.
 */
export class Pool<M = unknown> {
  readonly algorithmName: string;
  private readonly entries = new Map<string, ServerEntry<M>>();
  private readonly cookies = new Map<string, ServerEntry<M>>();
  private readonly primary: Tier;
  private readonly backup: Tier;
  private readonly clock: Clock;
  private readonly slowStart: number;
  private readonly cookieName: string | undefined;
  private readonly ramping = new Set<ServerEntry<M>>();
  private nextRampAt = Number.POSITIVE_INFINITY;
  private order = 0;
  private inFlightTotal = 0;

  constructor(options: PoolOptions<M> = {}) {
    const o = readPoolOptions(options);
    this.clock = o.clock;
    this.slowStart = o.slowStart;
    this.cookieName = o.cookie;
    const factory = o.algorithm;
    const env: AlgorithmEnv = {
      clock: this.clock,
      random: o.random,
      lookup: (id) => this.entries.get(id),
      byCookie: (value) => this.cookies.get(value),
    };
    this.algorithmName = String(factory.name);
    this.primary = new Tier(checkAlgorithm(factory.create(env), this.algorithmName));
    this.backup = new Tier(
      o.allBackups ? checkAlgorithm(factory.create(env), this.algorithmName) : firstAlgorithm().create(env),
    );
    for (const spec of o.servers) this.add(spec);
    this.rebalance();
  }

  get size(): number {
    return this.entries.size;
  }

  get servers(): Server<M>[] {
    return [...this.entries.values()];
  }

  get(id: string): Server<M> | undefined {
    return this.entries.get(id);
  }

  add(spec: ServerSpec<M>): Server<M> {
    const entry = new ServerEntry(spec, this.order++);
    if (this.entries.has(entry.id))
      throw configError("server id", entry.id, "is already in the pool (ids are unique)");
    if (this.cookies.has(entry.cookie))
      throw configError(
        `servers[${JSON.stringify(entry.id)}].cookie`,
        entry.cookie,
        `is already used by server ${JSON.stringify(this.cookies.get(entry.cookie)!.id)} (cookies are unique)`,
      );
    this.entries.set(entry.id, entry);
    this.cookies.set(entry.cookie, entry);
    if (entry.usable) this.tierOf(entry).add(entry);
    return entry;
  }

  remove(id: string): void {
    const entry = this.entry(id);
    this.tierOf(entry).remove(entry);
    this.ramping.delete(entry);
    this.entries.delete(id);
    this.cookies.delete(entry.cookie);
  }

  setWeight(id: string, weight: number): void {
    const entry = this.entry(id);
    checkWeight(weight, id);
    this.change(entry, () => {
      entry.weight = weight;
      entry.effectiveWeight = this.rampedWeight(entry, this.clock.now());
    });
  }

  setState(id: string, state: ServerState): void {
    const entry = this.entry(id);
    checkState(state, id);
    const previous = entry.state;
    if (previous === state) return;
    this.change(entry, () => {
      entry.state = state;
      const duration = this.slowStartOf(entry);
      if (
        state === "up" &&
        (previous === "down" || previous === "maint") &&
        duration > 0 &&
        entry.weight > 0
      ) {
        entry.rampStart = this.clock.now();
        this.ramping.add(entry);
      } else if (state === "down" || state === "maint") {
        // a drain keeps the warm-up going: only failing or leaving ends it
        entry.rampStart = undefined;
        this.ramping.delete(entry);
      }
      entry.effectiveWeight = this.rampedWeight(entry, this.clock.now());
    });
  }

  /** HAProxy `maxconn` at run time (an agent's `maxconn:N`); 0 = no limit. */
  setMaxConn(id: string, maxConn: number): void {
    this.entry(id).maxConn = checkMaxConn(maxConn, id);
  }

  /** The first choice for a request, preferring a server below its maxConn; never throws. */
  pick(context: PickContext = EMPTY_CONTEXT): PickResult<M> {
    const ctx = contextOf(context);
    this.advanceRamps();
    const persisted = this.persisted(ctx);
    if (persisted) return this.chosen(persisted);
    const tier = this.activeTier();
    const first = tier?.algorithm.pick(ctx) as ServerEntry<M> | undefined;
    if (!tier || !first) return this.none();
    const firstLive = live(tier, first);
    if (firstLive && !first.full) return this.chosen(first);
    const seen = new Set<Entry>([first]);
    const deferred: Entry[] = firstLive ? [first] : [];
    for (const s of fallbackCandidates(tier, ctx, first, seen, deferred))
      return this.chosen(s as ServerEntry<M>);
    return this.none();
  }

  /**
   * The server this request is bound to: the persisted one, else the algorithm's own first choice, whether or
   * not it is at its maxConn (undefined when no server is usable). A proxy that queues a request on the server
   * a hash or persistence designates (HAProxy's per-server queue) asks this instead of `pick`, which moves on
   * to a server with room. Counts as a pick (lbtot).
   */
  choice(context: PickContext = EMPTY_CONTEXT): Server<M> | undefined {
    const ctx = contextOf(context);
    this.advanceRamps();
    const persisted = this.persisted(ctx);
    if (persisted) return this.counted(persisted);
    const tier = this.activeTier();
    const first = tier?.algorithm.pick(ctx) as ServerEntry<M> | undefined;
    if (!tier || !first || !live(tier, first)) return undefined;
    return this.counted(first);
  }

  /**
   * Every server that may take this request, best first: the persisted server, the algorithm's choice, its own
   * fallbacks, then the rest of the tier; servers at maxConn last. Backups only while no primary is usable.
   * Lazy: the algorithm's state advances once, when the first candidate is taken.
   */
  *candidates(context: PickContext = EMPTY_CONTEXT): Generator<Server<M>, void, undefined> {
    const ctx = contextOf(context);
    this.advanceRamps();
    const seen = new Set<Entry>();
    const persisted = this.persisted(ctx);
    if (persisted) {
      seen.add(persisted);
      yield this.counted(persisted);
    }
    // the caller may have awaited: the tier is chosen after the persisted server was tried
    const tier = this.activeTier();
    const first = tier?.algorithm.pick(ctx) as ServerEntry<M> | undefined;
    if (!tier || !first) return;
    const deferred: Entry[] = [];
    if (!seen.has(first) && live(tier, first)) {
      seen.add(first);
      if (first.full) deferred.push(first);
      else yield this.counted(first);
    }
    for (const s of fallbackCandidates(tier, ctx, first, seen, deferred))
      yield this.counted(s as ServerEntry<M>);
  }

  /** Start a request on `server` (counts toward leastconn, P2C, bounded load and stats). */
  acquire(server: Server<M> | string): Lease<M> {
    const id = typeof server === "string" ? server : (server as { id?: unknown } | null | undefined)?.id;
    if (typeof id !== "string")
      throw new BalancerError(
        "ERR_INVALID_ARGUMENT",
        `balancer: acquire() needs a server or a server id, got ${showValue(server)}`,
      );
    const entry = this.entry(id);
    this.inFlightTotal++;
    const started = lease<M>(entry, this.clock, this.leaseOwner);
    const tier = this.tierOf(entry);
    if (tier.has(entry)) tier.algorithm.loadChanged?.(entry);
    return started;
  }

  /** What every lease of this pool reports to when it ends (one object per pool, not a closure per request). */
  private readonly leaseOwner: LeaseOwner<M> = {
    leaseEnded: (entry, ok, latencyMs, outcome) => {
      this.inFlightTotal--;
      if (this.entries.get(entry.id) !== entry) return; // removed meanwhile
      const t = this.tierOf(entry);
      if (t.has(entry)) {
        const algorithm = t.algorithm;
        algorithm.loadChanged?.(entry);
        // the observed outcome is built only for an algorithm that reads it (peak EWMA)
        if (algorithm.observe !== undefined) algorithm.observe(entry, { ...outcome, ok, latencyMs });
      }
    },
  };

  stats(): PoolStats {
    return {
      algorithm: this.algorithmName,
      servers: this.entries.size,
      usable: this.primary.size,
      usableBackups: this.backup.size,
      inFlight: this.inFlightTotal,
    };
  }

  /**
   * Finishes deferred table work now: after a change, hash tables that cannot be updated in place (Maglev, and a
   * Ketama ring or jump table that must be re-sized) are rebuilt a slice per pick while the previous one serves;
   * this completes them at once (it costs what the rebuild costs: up to about a second at 100,000 servers).
   * The constructor calls it, so a new pool's tables are complete.
   */
  rebalance(): void {
    this.advanceRamps();
    this.primary.algorithm.settle?.();
    this.backup.algorithm.settle?.();
  }

  /** Re-evaluates slow-start ramps now (pick and candidates do this on their own). */
  refresh(): void {
    this.nextRampAt = Number.NEGATIVE_INFINITY;
    this.advanceRamps();
  }

  private entry(id: string): ServerEntry<M> {
    const entry = this.entries.get(id);
    if (!entry) {
      const known = [...this.entries.keys()].slice(0, 10).join(", ");
      throw new BalancerError(
        "ERR_UNKNOWN_SERVER",
        `balancer: no server ${showValue(id)} in the pool (known: ${known || "none"})`,
      );
    }
    return entry;
  }

  private tierOf(entry: Entry): Tier {
    return entry.backup ? this.backup : this.primary;
  }

  private activeTier(): Tier | undefined {
    if (this.primary.size > 0) return this.primary;
    if (this.backup.size > 0) return this.backup;
    return undefined;
  }

  private persisted(ctx: PickContext): ServerEntry<M> | undefined {
    if (this.cookieName === undefined) return undefined;
    const value = readCookie(ctx, this.cookieName);
    if (value === undefined) return undefined;
    const entry = this.cookies.get(value);
    if (!entry || (entry.state !== "up" && entry.state !== "drain")) return undefined;
    return entry;
  }

  private chosen(entry: ServerEntry<M>): PickResult<M> {
    return { ok: true, server: this.counted(entry) };
  }

  private counted(entry: ServerEntry<M>): ServerEntry<M> {
    entry.stats.selected++;
    return entry;
  }

  private none(): NoServerAvailable {
    const states: Record<string, number> = {};
    for (const e of this.entries.values()) {
      const k = e.state === "up" && e.effectiveWeight === 0 ? "weight 0" : e.state;
      states[k] = (states[k] ?? 0) + 1;
    }
    const summary = Object.entries(states)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ");
    return {
      ok: false,
      reason: "no-server-available",
      message: `balancer: no server available (${summary || "pool is empty"})`,
    };
  }

  /** Apply a mutation and move the server between tier/algorithm accordingly. */
  private change(entry: ServerEntry<M>, mutate: () => void): void {
    const wasUsable = entry.usable;
    const previous = entry.effectiveWeight;
    mutate();
    const tier = this.tierOf(entry);
    const usable = entry.usable;
    if (wasUsable && !usable) tier.remove(entry);
    else if (!wasUsable && usable) tier.add(entry);
    else if (usable && previous !== entry.effectiveWeight) tier.reweight(entry, previous);
  }

  /** Slow start applies to dynamic algorithms only, as in HAProxy (static-rr, map-based and Maglev take weights as they are). */
  private slowStartOf(entry: ServerEntry<M>): number {
    if (this.tierOf(entry).algorithm.staticWeights) return 0;
    return entry.slowStart ?? this.slowStart;
  }

  /** The server's effective weight at `now`; schedules the next ramp step, or ends the ramp. */
  private rampedWeight(entry: ServerEntry<M>, now: number): number {
    if (entry.rampStart === undefined) return entry.weight;
    const r = ramp(entry.weight, now - entry.rampStart, this.slowStartOf(entry));
    if (r.next === undefined) {
      entry.rampStart = undefined;
      this.ramping.delete(entry);
    } else this.nextRampAt = Math.min(this.nextRampAt, entry.rampStart + r.next);
    return r.weight;
  }

  private advanceRamps(): void {
    if (this.ramping.size === 0) return;
    const now = this.clock.now();
    if (now < this.nextRampAt) return;
    this.nextRampAt = Number.POSITIVE_INFINITY;
    for (const entry of [...this.ramping]) {
      this.change(entry, () => {
        entry.effectiveWeight = this.rampedWeight(entry, now);
      });
    }
  }
}
