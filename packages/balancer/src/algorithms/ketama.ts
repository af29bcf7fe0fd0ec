import { fmix32, hash32 } from "../hash.js";
import type { Server } from "../server.js";
import { type LookupStore, ScaledMapping } from "./scaled.js";

/** A ring whose points per weight are chosen from the pool holds at least this many points... */
export const MIN_RING_POINTS = 16_384;
/** ...and at least this many per unit of weight (ketama's 160 per server is 40 hashes × 4)... */
export const MIN_POINTS_PER_WEIGHT = 40;
/** ...and at most about this many in all (Envoy's ring_hash caps at 8 M): 8 MiB of points. */
export const MAX_RING_POINTS = 2 ** 20;
/** Servers a ring can index at once (2^21), from the float64 packing of (hash, server index). */
const SERVER_SLOTS = 2 ** 21;

/**
 * Ketama consistent-hash ring: each server owns about `pointsPerWeight × weight` points (at least one); a key
 * goes to the first point at or after its hash. Point i of a server always hashes the same, so adding, removing
 * or reweighting a server inserts or deletes only that server's points: only the keys on them move.
 *
 * Points per weight are the `points` option, or chosen from the pool: enough for a ring of
 * {@link MIN_RING_POINTS} (at least {@link MIN_POINTS_PER_WEIGHT}); either way capped so the ring holds at most
 * about {@link MAX_RING_POINTS} (HAProxy scales points by weight too, 16 per unit, in a tree updated per server).
 * Past the cap, points per weight drop (below 1 in huge pools) and a server holds max(1, round(weight × points per
 * weight)) points: at 1,000 servers of weights 1..256 about 8 per unit (2,048 for weight 256), at 100,000 about
 * 0.08 (20 points for weight 256, 1 for weights 1..19) — so shares follow weights only roughly there.
 * When the pool's total weight later moves so far that the ring is 2× too big or 4× too small, a re-sized ring is
 * built in slices while the current one keeps serving; it keeps each server's first points, so only keys on the
 * dropped or added points move.
 */
export class KetamaRing extends ScaledMapping<Ring> {
  constructor(pointsPerWeight: number | undefined) {
    super(
      (expected) => new Ring(expected),
      (total) => {
        const t = Math.max(total, 1);
        const want = pointsPerWeight ?? Math.max(MIN_POINTS_PER_WEIGHT, MIN_RING_POINTS / t);
        return Math.min(want, MAX_RING_POINTS / t);
      },
    );
  }

  /** Points on the ring now, for inspection and tests. */
  get ringSize(): number {
    return this.scaled.live.units;
  }
}

/**
 * The ring itself: points packed as hash × 2^21 + server index (one float64 each), in 2^b buckets by the hash's
 * top bits, each bucket a sorted array. The hashes are uniform, so buckets hold about 64..512 points and a point
 * is inserted or deleted by a binary search and a short splice — no pass over the whole ring.
 */
class Ring implements LookupStore {
  private buckets: number[][];
  private shift: number;
  private readonly servers: (Server | undefined)[] = [];
  private readonly freeIndex: number[] = [];
  private readonly held = new Map<Server, { index: number; points: number }>();
  units = 0;
  /** Buckets [unsorted, length) are still in bulk-fill order: a new ring fills in bulk until finish(). */
  private unsorted = 0;

  constructor(expectedPoints: number) {
    const bits = Math.max(1, Math.min(16, Math.ceil(Math.log2(Math.max(expectedPoints, 1) / 128))));
    this.shift = 32 - bits;
    this.buckets = Array.from({ length: 2 ** bits }, () => []);
  }

  set(server: Server, points: number): number {
    let h = this.held.get(server);
    const have = h?.points ?? 0;
    if (points === have) return 0;
    if (!h) {
      const index = this.freeIndex.pop() ?? this.servers.length;
      if (index >= SERVER_SLOTS) throw new RangeError("balancer: a Ketama ring holds at most 2^21 servers");
      this.servers[index] = server;
      h = { index, points: 0 };
      this.held.set(server, h);
    }
    const base = idHash(server);
    // points have..want-1 are added, or want..have-1 dropped: the first points of a server never change
    for (let i = have; i < points; i++) this.insert(pointHash(base, i) * SERVER_SLOTS + h.index);
    for (let i = points; i < have; i++) this.delete(pointHash(base, i) * SERVER_SLOTS + h.index);
    h.points = points;
    this.units += points - have;
    if (this.units > this.buckets.length * 1024 && this.shift > 16) this.split();
    if (points === 0) {
      this.held.delete(server);
      this.servers[h.index] = undefined;
      this.freeIndex.push(h.index);
    }
    return Math.abs(points - have);
  }

  owner(hash: number): Server | undefined {
    if (this.units === 0) return undefined;
    const key = hash * SERVER_SLOTS;
    const nb = this.buckets.length;
    let b = hash >>> this.shift;
    const bucket = this.buckets[b]!;
    const i = lowerBound(bucket, key);
    if (i < bucket.length) return this.serverAt(bucket[i]!);
    for (let k = 1; k <= nb; k++) {
      b = b + 1 === nb ? 0 : b + 1;
      const next = this.buckets[b]!;
      if (next.length) return this.serverAt(next[0]!);
    }
    return undefined;
  }

  /** The owner, then each further server in ring order, once. */
  *walk(hash: number): Generator<Server> {
    if (this.units === 0) return;
    const buckets = this.buckets;
    const nb = buckets.length;
    const members = this.held.size;
    const seen = new Set<Server>();
    let b = hash >>> this.shift;
    let i = lowerBound(buckets[b]!, hash * SERVER_SLOTS);
    // the ring may change while a caller holds this iterator: stop after one lap or when the bucket set changes
    for (let visited = 0; visited <= nb && seen.size < members; ) {
      const bucket = buckets[b]!;
      if (i < bucket.length) {
        const s = this.serverAt(bucket[i++]!);
        if (s && !seen.has(s)) {
          seen.add(s);
          yield s;
        }
        continue;
      }
      b = b + 1 === nb ? 0 : b + 1;
      i = 0;
      visited++;
    }
  }

  private serverAt(packed: number): Server | undefined {
    return this.servers[packed % SERVER_SLOTS];
  }

  /**
   * Doubles the buckets of a ring that outgrew them (a ring made for a small pool that then grew while its
   * replacement was being built): each bucket splits in two at the next bit of the hash, in order, so the cost
   * is one pass over the points, and rare (the count doubles each time).
   */
  private split(): void {
    const shift = this.shift - 1;
    const buckets: number[][] = [];
    const sorted = this.unsorted >= this.buckets.length;
    for (let b = 0; b < this.buckets.length; b++) {
      const bucket = this.buckets[b]!;
      const boundary = (2 * b + 1) * 2 ** shift * SERVER_SLOTS;
      if (sorted) {
        const cut = lowerBound(bucket, boundary);
        buckets.push(bucket.slice(0, cut), bucket.slice(cut));
      } else {
        buckets.push(
          bucket.filter((p) => p < boundary),
          bucket.filter((p) => p >= boundary),
        );
      }
    }
    this.buckets = buckets;
    this.shift = shift;
    if (!sorted) this.unsorted = 0;
    else this.unsorted = buckets.length;
  }

  /** Sorts the buckets filled in bulk (appended unsorted); returns whether all are sorted, after `budget` points. */
  finish(budget: number): boolean {
    while (this.unsorted < this.buckets.length && budget > 0) {
      const bucket = this.buckets[this.unsorted++]!;
      if (bucket.length > 1) {
        const sorted = Float64Array.from(bucket).sort();
        for (let i = 0; i < sorted.length; i++) bucket[i] = sorted[i]!;
      }
      budget -= 1 + bucket.length;
    }
    return this.unsorted >= this.buckets.length;
  }

  private insert(packed: number): void {
    const bucket = this.buckets[Math.floor(packed / SERVER_SLOTS) >>> this.shift]!;
    if (this.unsorted < this.buckets.length) {
      bucket.push(packed); // bulk fill: sorted once by finish()
      return;
    }
    // a binary search and a shift by hand (splice allocates): buckets are short
    const i = lowerBound(bucket, packed);
    bucket.push(packed);
    for (let k = bucket.length - 1; k > i; k--) bucket[k] = bucket[k - 1]!;
    bucket[i] = packed;
  }

  private delete(packed: number): void {
    const bucket = this.buckets[Math.floor(packed / SERVER_SLOTS) >>> this.shift]!;
    const i = this.unsorted < this.buckets.length ? bucket.indexOf(packed) : lowerBound(bucket, packed);
    if (i < 0 || bucket[i] !== packed) return;
    for (let k = i; k < bucket.length - 1; k++) bucket[k] = bucket[k + 1]!;
    bucket.pop();
  }
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Point i of a server: the id hashed once, then mixed with i (no string per point). */
function pointHash(idHash: number, i: number): number {
  return fmix32(idHash + Math.imul(i + 1, 0x9e3779b9));
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
