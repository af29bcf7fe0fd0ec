import { fmix32, hash32 } from "../hash.js";
import type { Server } from "../server.js";
import type { HashMapping } from "./mapping.js";

/** A ring whose points per weight are chosen from the pool holds at least this many points... */
export const MIN_RING_POINTS = 16_384;
/** ...and at least this many per unit of weight (ketama's 160 per server is 40 hashes × 4). */
export const MIN_POINTS_PER_WEIGHT = 40;
/** Servers a ring can be rebuilt with at once (2^21), from the float64 packing in `rebuild`. */
const SERVER_SLOTS = 2 ** 21;

/**
 * Ketama consistent-hash ring: each server owns `pointsPerWeight × weight` points (ketama's "points per
 * server"); a key goes to the first point at or after its hash. Adding a server, removing one or changing a
 * weight merges or filters only that server's points (no re-hashing of the others), so only the keys on those
 * points move.
 *
 * Points per weight are fixed by the `points` option, or chosen from the pool: enough for a ring of
 * {@link MIN_RING_POINTS} (at least {@link MIN_POINTS_PER_WEIGHT}), so a small pool balances well and a large one
 * stays small. When the total weight later moves 4× away from what the ring was sized for, the ring is
 * re-sized once at the next lookup (keys on the dropped or added points move; the rest stay).
 */
export class KetamaRing implements HashMapping {
  private hashes = new Uint32Array(0);
  private owners: Server[] = [];
  /** Members and the weight their points were built for. */
  private readonly weights = new Map<Server, number>();
  private total = 0;
  private pointsPerWeight: number;
  private readonly auto: boolean;
  /** The ring must be rebuilt (from `weights`) before the next lookup. */
  private stale = true;

  constructor(pointsPerWeight: number | undefined) {
    this.auto = pointsPerWeight === undefined;
    this.pointsPerWeight = pointsPerWeight ?? 0;
  }

  get size(): number {
    return this.weights.size;
  }

  /** Points on the ring now, for inspection and tests. */
  get ringSize(): number {
    this.fresh();
    return this.hashes.length;
  }

  add(server: Server): void {
    this.setWeight(server, server.effectiveWeight);
  }

  remove(server: Server): void {
    if (this.weights.has(server)) this.setWeight(server, undefined);
  }

  reweight(server: Server): void {
    if (this.weights.has(server)) this.setWeight(server, server.effectiveWeight);
  }

  owner(hash: number): Server | undefined {
    this.fresh();
    const n = this.hashes.length;
    if (n === 0) return undefined;
    const i = this.lowerBound(hash);
    return this.owners[i === n ? 0 : i];
  }

  *walk(hash: number): Generator<Server> {
    this.fresh();
    // the ring may be rebuilt while a caller holds this iterator: walk the arrays as they were
    const owners = this.owners;
    const n = owners.length;
    if (n === 0) return;
    const members = this.weights.size;
    const seen = new Set<Server>();
    const start = this.lowerBound(hash);
    for (let k = 0; k < n && seen.size < members; k++) {
      const s = owners[(start + k) % n]!;
      if (!seen.has(s)) {
        seen.add(s);
        yield s;
      }
    }
  }

  private setWeight(server: Server, weight: number | undefined): void {
    const old = this.weights.get(server) ?? 0;
    if (weight === undefined) this.weights.delete(server);
    else this.weights.set(server, weight);
    this.total += (weight ?? 0) - old;
    if (this.stale) return;
    if (this.auto && this.resizeDue()) {
      this.stale = true;
      return;
    }
    const have = old * this.pointsPerWeight;
    const want = (weight ?? 0) * this.pointsPerWeight;
    if (weight === undefined) this.filter((s) => s !== server);
    else if (want > have) this.grow(server, have, want);
    else if (want < have) {
      // drop the highest-numbered points, so growing back later restores exactly the same ring
      const drop = new Set<number>();
      for (let i = want; i < have; i++) drop.add(pointHash(server, i));
      this.filter((s, h) => s !== server || !drop.has(h));
    }
  }

  private wantedPointsPerWeight(): number {
    return Math.max(MIN_POINTS_PER_WEIGHT, Math.ceil(MIN_RING_POINTS / Math.max(this.total, 1)));
  }

  private resizeDue(): boolean {
    const want = this.wantedPointsPerWeight();
    return want > 4 * this.pointsPerWeight || 4 * want < this.pointsPerWeight;
  }

  private fresh(): void {
    if (!this.stale) return;
    this.stale = false;
    if (this.auto) this.pointsPerWeight = this.wantedPointsPerWeight();
    const servers = [...this.weights.keys()];
    // pack (hash, server index) into one float64 (32 + 21 bits) so a native typed-array sort does the work
    let count = 0;
    for (const w of this.weights.values()) count += w * this.pointsPerWeight;
    const packed = new Float64Array(count);
    let k = 0;
    servers.forEach((s, index) => {
      const want = this.weights.get(s)! * this.pointsPerWeight;
      for (let i = 0; i < want; i++) packed[k++] = pointHash(s, i) * SERVER_SLOTS + index;
    });
    packed.sort();
    this.hashes = new Uint32Array(count);
    this.owners = new Array(count);
    for (let i = 0; i < count; i++) {
      const v = packed[i]!;
      const index = v % SERVER_SLOTS;
      this.hashes[i] = (v - index) / SERVER_SLOTS;
      this.owners[i] = servers[index]!;
    }
  }

  private lowerBound(hash: number): number {
    const h = this.hashes;
    let lo = 0;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (h[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Merge points have..want-1 of `server` into the ring. */
  private grow(server: Server, have: number, want: number): void {
    const added = new Uint32Array(want - have);
    for (let i = have; i < want; i++) added[i - have] = pointHash(server, i);
    added.sort();
    const old = this.hashes;
    const oldOwners = this.owners;
    const hashes = new Uint32Array(old.length + added.length);
    const owners: Server[] = new Array(hashes.length);
    let a = 0;
    let b = 0;
    for (let k = 0; k < hashes.length; k++) {
      if (b >= added.length || (a < old.length && old[a]! <= added[b]!)) {
        hashes[k] = old[a]!;
        owners[k] = oldOwners[a++]!;
      } else {
        hashes[k] = added[b++]!;
        owners[k] = server;
      }
    }
    this.hashes = hashes;
    this.owners = owners;
  }

  private filter(keep: (s: Server, h: number) => boolean): void {
    const hashes = new Uint32Array(this.hashes.length);
    const owners: Server[] = [];
    let k = 0;
    for (let i = 0; i < this.hashes.length; i++) {
      const s = this.owners[i]!;
      const h = this.hashes[i]!;
      if (keep(s, h)) {
        hashes[k++] = h;
        owners.push(s);
      }
    }
    this.hashes = hashes.slice(0, k);
    this.owners = owners;
  }
}

/** Point i of a server: the id hashed once, then mixed with i (no string per point). */
function pointHash(server: Server, i: number): number {
  return fmix32(idHash(server) + Math.imul(i + 1, 0x9e3779b9));
}

const idHashes = new WeakMap<Server, number>();
function idHash(server: Server): number {
  let h = idHashes.get(server);
  if (h === undefined) {
    h = hash32(server.id, 0x6b657461);
    idHashes.set(server, h);
  }
  return h;
}
