import { hash32 } from "../hash.js";
import type { Server } from "../server.js";
import type { HashMapping } from "./mapping.js";

/**
 * Ketama consistent-hash ring: each server owns `pointsPerWeight × weight` points (ketama's 'points per server'); a key goes to the first
 * point at or after its hash. Adding a server, removing one or changing a weight only merges or filters that
 * server's points (no re-hashing of the others), and only the keys on those points move.
 */
/** A ring sized at its first lookup holds at least this many points. */
export const MIN_RING_POINTS = 16_384;

export class KetamaRing implements HashMapping {
  private hashes = new Uint32Array(0);
  private owners: Server[] = [];
  private readonly points = new Map<Server, number>();

  private pointsPerWeight: number;
  private pending: Server[] | undefined = [];

  /**
   * `pointsPerWeight` fixed, or undefined: then it is chosen at the first lookup so the ring holds at least
   * {@link MIN_RING_POINTS} points (at least 100 per unit of weight) and stays fixed after that, so small
   * pools balance well and large ones stay small.
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
    this.pointsPerWeight = Math.max(100, Math.ceil(MIN_RING_POINTS / Math.max(total, 1)));
    const all: [number, Server][] = [];
    for (const s of servers) {
      const want = s.effectiveWeight * this.pointsPerWeight;
      this.points.set(s, want);
      for (let i = 0; i < want; i++) all.push([pointHash(s, i), s]);
    }
    all.sort((a, b) => a[0] - b[0]);
    this.hashes = Uint32Array.from(all, (p) => p[0]);
    this.owners = all.map((p) => p[1]);
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

function pointHash(server: Server, i: number): number {
  return hash32(`${server.id}#${i}`, 0x6b657461);
}
