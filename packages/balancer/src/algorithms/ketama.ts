import { fmix32, hash32 } from "../hash.js";
import type { Server } from "../server.js";
import type { HashMapping } from "./mapping.js";

/**
 * Ketama consistent-hash ring: each server owns `pointsPerWeight × weight` points (ketama's 'points per server'); a key goes to the first
 * point at or after its hash. Adding a server, removing one or changing a weight only merges or filters that
 * server's points (no re-hashing of the others), and only the keys on those points move.
 */
/** A ring sized at its first lookup holds at least this many points... */
export const MIN_RING_POINTS = 16_384;
/** ...and at least this many per unit of weight (ketama's 160 per server is 40 hashes × 4). */
export const MIN_POINTS_PER_WEIGHT = 40;

/** Servers a ring can be first built with at once (2^21), from the float64 packing below. */
const SERVER_SLOTS = 2 ** 21;

export class KetamaRing implements HashMapping {
  private hashes = new Uint32Array(0);
  private owners: Server[] = [];
  private readonly points = new Map<Server, number>();

  private pointsPerWeight: number;
  private pending: Server[] | undefined = [];

  /**
   * `pointsPerWeight` fixed, or undefined: then it is chosen at the first lookup so the ring holds at least
   * {@link MIN_RING_POINTS} points (at least {@link MIN_POINTS_PER_WEIGHT} per unit of weight) and stays fixed
   * after that, so small pools balance well and large ones stay small.
   */
  constructor(pointsPerWeight: number | undefined) {
    this.pointsPerWeight = pointsPerWeight ?? 0;
    if (pointsPerWeight !== undefined) this.pending = undefined;
  }

  get size(): number {
    return this.points.size;
  }

  add(server: Server): void {
    if (this.pending) {
      this.pending.push(server);
      return;
    }
    this.points.set(server, 0);
    this.grow(server, server.effectiveWeight * this.pointsPerWeight);
  }

  remove(server: Server): void {
    if (this.pending) {
      this.pending = this.pending.filter((s) => s !== server);
      return;
    }
    if (!this.points.has(server)) return;
    this.points.delete(server);
    this.filter((s) => s !== server);
  }

  reweight(server: Server): void {
    if (this.pending) return; // sized and built at the first lookup, from the weights then
    const have = this.points.get(server);
    if (have === undefined) return;
    const want = server.effectiveWeight * this.pointsPerWeight;
    if (want > have) this.grow(server, want);
    else if (want < have) {
      // drop the highest-numbered points, so growing back later restores exactly the same ring
      const drop = new Set<number>();
      for (let i = want; i < have; i++) drop.add(pointHash(server, i));
      this.points.set(server, want);
      this.filter((s, h) => s !== server || !drop.has(h));
    }
  }

  owner(hash: number): Server | undefined {
    if (this.pending) this.size_();
    const n = this.hashes.length;
    if (n === 0) return undefined;
    const i = this.lowerBound(hash);
    return this.owners[i === n ? 0 : i];
  }

  *walk(hash: number): Generator<Server> {
    if (this.pending) this.size_();
    const n = this.hashes.length;
    if (n === 0) return;
    const seen = new Set<Server>();
    const start = this.lowerBound(hash);
    for (let k = 0; k < n && seen.size < this.points.size; k++) {
      const s = this.owners[(start + k) % n]!;
      if (!seen.has(s)) {
        seen.add(s);
        yield s;
      }
    }
  }

  /** Choose points per weight from the pool as it is at the first lookup, then build the ring once. */
  private size_(): void {
    const servers = this.pending!;
    this.pending = undefined;
    const total = servers.reduce((sum, s) => sum + s.effectiveWeight, 0);
    this.pointsPerWeight = Math.max(MIN_POINTS_PER_WEIGHT, Math.ceil(MIN_RING_POINTS / Math.max(total, 1)));
    // pack (hash, server index) into one float64 (32 + 21 bits) so a native typed-array sort does the work
    let count = 0;
    for (const s of servers) count += s.effectiveWeight * this.pointsPerWeight;
    const packed = new Float64Array(count);
    let k = 0;
    servers.forEach((s, index) => {
      const want = s.effectiveWeight * this.pointsPerWeight;
      this.points.set(s, want);
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
  private grow(server: Server, want: number): void {
    const have = this.points.get(server)!;
    this.points.set(server, want);
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
