import { fmix32 } from "../hash.js";
import type { Server } from "../server.js";
import type { HashMapping } from "./mapping.js";

/**
 * Jump consistent hash (Lamping & Veach, 2014) over weighted slots: a server of weight w owns w slots.
 * Jump hash itself can only grow or shrink at the end, so a departing server's slots become tombstones: a key
 * that lands on one jumps again with a re-mixed key, and only that server's keys move. New slots reuse
 * tombstones first. When tombstones outnumber live slots the slots are compacted (which remaps keys once).
 * No table, no ring: O(log slots) per lookup and memory of one entry per slot.
 */
export class JumpHash implements HashMapping {
  private slots: (Server | undefined)[] = [];
  private readonly owned = new Map<Server, number[]>();
  private free: number[] = [];

  get size(): number {
    return this.owned.size;
  }

  add(server: Server): void {
    this.owned.set(server, []);
    this.resize(server, server.effectiveWeight);
  }

  remove(server: Server): void {
    const mine = this.owned.get(server);
    if (!mine) return;
    for (const slot of mine) this.release(slot);
    this.owned.delete(server);
    this.maybeCompact();
  }

  reweight(server: Server): void {
    if (!this.owned.has(server)) return;
    this.resize(server, server.effectiveWeight);
    this.maybeCompact();
  }

  owner(hash: number): Server | undefined {
    const n = this.slots.length;
    if (this.owned.size === 0) return undefined;
    let key = hash;
    for (let attempt = 0; attempt < 64; attempt++) {
      const s = this.slots[jump(key, n)];
      if (s) return s;
      key = fmix32(key + 0x9e3779b9 + attempt);
    }
    return this.slots.find((s) => s !== undefined);
  }

  *walk(hash: number): Generator<Server> {
    const n = this.slots.length;
    const seen = new Set<Server>();
    let key = hash;
    for (let attempt = 0; attempt < 4 * n + 64 && seen.size < this.owned.size; attempt++) {
      const s = this.slots[jump(key, n)];
      if (s && !seen.has(s)) {
        seen.add(s);
        yield s;
      }
      key = fmix32(key + 0x9e3779b9 + attempt);
    }
  }

  private resize(server: Server, weight: number): void {
    const mine = this.owned.get(server)!;
    while (mine.length > weight) this.release(mine.pop()!);
    while (mine.length < weight) {
      const slot = this.free.pop() ?? this.slots.length;
      this.slots[slot] = server;
      mine.push(slot);
    }
  }

  private release(slot: number): void {
    this.slots[slot] = undefined;
    this.free.push(slot);
  }

  private maybeCompact(): void {
    const dead = this.free.length;
    if (dead === 0) return;
    // trailing tombstones can simply go: jump hash shrinks at the end without remapping live slots
    while (this.slots.length > 0 && this.slots[this.slots.length - 1] === undefined) this.slots.pop();
    const n = this.slots.length;
    this.free = this.free.filter((s) => s < n);
    if (this.free.length <= 64 || this.free.length * 2 <= n) return;
    const live = this.slots.filter((s): s is Server => s !== undefined);
    this.slots = live;
    this.free = [];
    for (const list of this.owned.values()) list.length = 0;
    for (let i = 0; i < live.length; i++) this.owned.get(live[i]!)!.push(i);
  }
}

/** Jump consistent hash: the bucket in [0, n) for a 32-bit key, with mulberry32 as the per-key random stream. */
export function jump(key: number, n: number): number {
  let b = -1;
  let j = 0;
  let state = key | 0;
  while (j < n) {
    b = j;
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const r = (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967296;
    j = Math.floor((b + 1) / r);
  }
  return b;
}
