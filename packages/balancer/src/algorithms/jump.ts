import { fmix32 } from "../hash.js";
import type { Server } from "../server.js";
import { type LookupStore, ScaledMapping } from "./scaled.js";

/** At most this many weighted slots (8 MiB of slot table): past it, slots per weight drop below 1. */
export const MAX_JUMP_SLOTS = 2 ** 21;

/**
 * Jump consistent hash (Lamping & Veach, 2014) over weighted slots: a server of weight w owns w slots (while the
 * total weight is at most {@link MAX_JUMP_SLOTS}; past it, max(1, round(w × 2^21 / total)) slots).
 * Jump hash itself can only grow or shrink at the end, so a departing server's slots become tombstones: a key
 * that lands on one jumps again with a re-mixed key, and only that server's keys move. New slots reuse
 * tombstones first. When tombstones outnumber live slots, or the total weight moves so far that the slots per
 * weight must change, the slots are laid out afresh (which remaps keys once), in slices while the old layout
 * keeps serving. No ring: O(log slots) per lookup, 4 bytes per slot.
 */
export class JumpHash extends ScaledMapping<Slots> {
  constructor() {
    super(
      () => new Slots(),
      (total) => Math.min(1, MAX_JUMP_SLOTS / Math.max(total, 1)),
    );
  }
}

/**
 * The slot table: server indexes (-1 for a tombstone), and for each server the list of slots it owns, newest
 * first, kept as links between slots (`link`) so the whole layout is two Int32Arrays of slots plus two of servers.
 */
class Slots implements LookupStore {
  private slots: Int32Array = new Int32Array(64);
  /** The next (older) slot of the same server, or -1. */
  private link: Int32Array = new Int32Array(64);
  private length = 0;
  private readonly servers: (Server | undefined)[] = [];
  /** Per server index: its newest slot (-1: none) and how many it owns. */
  private head: Int32Array = new Int32Array(64);
  private count: Int32Array = new Int32Array(64);
  private readonly freeIndex: number[] = [];
  private readonly index = new Map<Server, number>();
  private readonly free: number[] = [];
  units = 0;

  get wantsRebuild(): boolean {
    const tombstones = this.length - this.units;
    return tombstones > 64 && tombstones * 2 > this.length;
  }

  set(server: Server, units: number): number {
    let x = this.index.get(server);
    const have = x === undefined ? 0 : this.count[x]!;
    if (units === have) return 0;
    if (x === undefined) {
      x = this.freeIndex.pop() ?? this.servers.length;
      if (x >= this.head.length) {
        this.head = grow(this.head);
        this.count = grow(this.count);
      }
      this.servers[x] = server;
      this.head[x] = -1;
      this.count[x] = 0;
      this.index.set(server, x);
    }
    // the newest slots go first, so growing back later restores the same slots when they are still free
    for (let c = have; c > units; c--) {
      const slot = this.head[x]!;
      this.head[x] = this.link[slot]!;
      this.slots[slot] = -1;
      this.free.push(slot);
    }
    for (let c = have; c < units; c++) {
      let slot = this.free.pop();
      // the free list may hold stale entries (slots dropped off the end, or reused since): skip them
      while (slot !== undefined && (slot >= this.length || this.slots[slot] !== -1)) slot = this.free.pop();
      if (slot === undefined) {
        slot = this.length++;
        if (slot >= this.slots.length) {
          this.slots = grow(this.slots);
          this.link = grow(this.link);
        }
      }
      this.slots[slot] = x;
      this.link[slot] = this.head[x]!;
      this.head[x] = slot;
    }
    this.count[x] = units;
    this.units += units - have;
    if (units === 0) {
      this.index.delete(server);
      this.servers[x] = undefined;
      this.freeIndex.push(x);
    }
    // trailing tombstones can simply go: jump hash shrinks at the end without remapping live slots
    while (this.length > 0 && this.slots[this.length - 1] === -1) this.length--;
    return Math.abs(units - have);
  }

  owner(hash: number): Server | undefined {
    const n = this.length;
    if (this.units === 0) return undefined;
    let key = hash;
    for (let attempt = 0; attempt < 64; attempt++) {
      const i = this.slots[jump(key, n)]!;
      if (i >= 0) return this.servers[i];
      key = fmix32(key + 0x9e3779b9 + attempt);
    }
    for (let k = 0; k < n; k++) if (this.slots[k]! >= 0) return this.servers[this.slots[k]!];
    return undefined;
  }

  *walk(hash: number): Generator<Server> {
    const n = this.length;
    const seen = new Set<Server>();
    let key = hash;
    for (let attempt = 0; attempt < 4 * n + 64 && seen.size < this.index.size; attempt++) {
      const i = this.slots[jump(key, n)]!;
      const s = i >= 0 ? this.servers[i] : undefined;
      if (s && !seen.has(s)) {
        seen.add(s);
        yield s;
      }
      key = fmix32(key + 0x9e3779b9 + attempt);
    }
  }
}

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
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
