import type { Server } from "../server.js";
import type { HashMapping } from "./mapping.js";

/** A structure that gives each server a number of units: ring points (Ketama), slots (jump hash). */
export interface UnitStore {
  /** Sets the server's units to exactly `units` (0: drop it); returns the work done (units added or removed). */
  set(server: Server, units: number): number;
  /** Units held now. */
  readonly units: number;
  /** The store asks to be rebuilt (e.g. too many tombstones). */
  readonly wantsRebuild?: boolean;
  /** A new store may take its first units in bulk and put them in order here: true when done. */
  finish?(budget: number): boolean;
}

/** Units of a server of weight `weight` at `scale` units per weight: at least 1 while the weight is above 0. */
export function unitsOf(weight: number, scale: number): number {
  return weight > 0 ? Math.max(1, Math.round(weight * scale)) : 0;
}

interface Rebuild<S> {
  store: S;
  scale: number;
  queue: Server[];
  pos: number;
  /** servers changed after the rebuild began: re-synced when it ends */
  changed: Set<Server>;
}

/**
 * Units per weight that follow the pool's total weight, so a structure stays within a size bound whatever the
 * pool: `want(total)` is the scale wanted for a total weight. A weight change updates only that server's units,
 * at the current scale. When the total weight has moved so far that the scale is off by 2× (too many units) or
 * 4× (too few), a replacement store is built at the new scale, in slices of `work(budget)` (on picks) or at once
 * (`settle`); meanwhile the current store keeps serving and keeps taking every change, and servers changed during
 * the rebuild are re-synced into the replacement before it is swapped in. The first store is built at once.
 */
export class Scaled<S extends UnitStore> {
  private store: S | undefined;
  private scaleNow = 0;
  private readonly weights = new Map<Server, number>();
  private total = 0;
  private next: Rebuild<S> | undefined;

  constructor(
    private readonly create: (expectedUnits: number) => S,
    private readonly want: (totalWeight: number) => number,
  ) {}

  get size(): number {
    return this.weights.size;
  }

  /** Units per weight in the live store. */
  get scale(): number {
    void this.live;
    return this.scaleNow;
  }

  get pending(): boolean {
    return this.store === undefined || this.next !== undefined;
  }

  /** The store lookups use (built on first use). */
  get live(): S {
    if (!this.store) {
      this.scaleNow = this.want(this.total);
      const store = this.create(this.expected(this.scaleNow));
      for (const [s, w] of this.weights) store.set(s, unitsOf(w, this.scaleNow));
      store.finish?.(Number.POSITIVE_INFINITY);
      this.store = store;
    }
    return this.store;
  }

  has(server: Server): boolean {
    return this.weights.has(server);
  }

  set(server: Server, weight: number | undefined): void {
    const old = this.weights.get(server) ?? 0;
    if (weight === undefined) this.weights.delete(server);
    else this.weights.set(server, weight);
    this.total += (weight ?? 0) - old;
    const store = this.store;
    if (!store) return;
    const want = this.want(this.total);
    // a replacement whose scale the pool has since moved away from is started afresh
    if (this.next && (this.next.scale > 2 * want || this.next.scale * 4 < want)) this.next = undefined;
    if (this.next) this.next.changed.add(server);
    else this.maybeRebuild(store);
    // while a smaller replacement is being built, the live store takes changes at the replacement's scale, so a
    // stale scale (a one-server ring grown to thirty) never costs a change more than the replacement will hold
    const scale = this.next ? Math.min(this.scaleNow, this.next.scale) : this.scaleNow;
    store.set(server, unitsOf(weight ?? 0, scale));
  }

  /** Advances a rebuild by about `budget` units of work. */
  work(budget: number): void {
    const r = this.next;
    if (!r) return;
    while (r.pos < r.queue.length && budget > 0) {
      const s = r.queue[r.pos++]!;
      budget -= 1 + r.store.set(s, unitsOf(this.weights.get(s) ?? 0, r.scale));
    }
    if (r.pos < r.queue.length) return;
    if (r.store.finish && !r.store.finish(budget)) return;
    for (const s of r.changed) r.store.set(s, unitsOf(this.weights.get(s) ?? 0, r.scale));
    this.store = r.store;
    this.scaleNow = r.scale;
    this.next = undefined;
    this.maybeRebuild(r.store);
  }

  settle(): void {
    void this.live;
    while (this.next) this.work(Number.POSITIVE_INFINITY);
  }

  private expected(scale: number): number {
    return this.total * scale;
  }

  private maybeRebuild(store: S): void {
    const want = this.want(this.total);
    const scale = this.scaleNow;
    if (!(store.wantsRebuild || scale > 2 * want || scale * 4 < want)) return;
    this.next = {
      store: this.create(this.expected(want)),
      scale: want,
      queue: [...this.weights.keys()],
      pos: 0,
      changed: new Set(),
    };
  }
}

/** A store that lookups can use. */
export interface LookupStore extends UnitStore {
  owner(hash: number): Server | undefined;
  walk(hash: number): Iterable<Server>;
}

/** A hash mapping over a {@link Scaled} store (Ketama ring, jump slots): each server holds units by weight. */
export abstract class ScaledMapping<S extends LookupStore> implements HashMapping {
  protected readonly scaled: Scaled<S>;

  constructor(create: (expectedUnits: number) => S, want: (totalWeight: number) => number) {
    this.scaled = new Scaled(create, want);
  }

  get size(): number {
    return this.scaled.size;
  }

  /** A re-sized replacement is being built (or the first store is not built yet). */
  get pending(): boolean {
    return this.scaled.pending;
  }

  add(server: Server): void {
    this.scaled.set(server, server.effectiveWeight);
  }

  remove(server: Server): void {
    if (this.scaled.has(server)) this.scaled.set(server, undefined);
  }

  reweight(server: Server): void {
    if (this.scaled.has(server)) this.scaled.set(server, server.effectiveWeight);
  }

  owner(hash: number): Server | undefined {
    return this.scaled.live.owner(hash);
  }

  walk(hash: number): Iterable<Server> {
    return this.scaled.live.walk(hash);
  }

  work(budget: number): void {
    this.scaled.work(budget);
  }

  settle(): void {
    this.scaled.settle();
  }
}
