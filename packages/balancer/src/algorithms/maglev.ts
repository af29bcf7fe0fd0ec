import { hash32 } from "../hash.js";
import type { Server } from "../server.js";
import type { HashMapping } from "./mapping.js";

/**
 * Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table of prime size M, filled by each server walking
 * its own permutation of the slots, in turns weighted by the servers' weights. A lookup is one array read; the
 * table balances near-perfectly and moves little more than a departing server's share when membership changes.
 *
 * M is `factor` (default 100) × servers, rounded up to a prime, at least {@link MIN_TABLE} (Envoy's default
 * size) and at most {@link MAX_TABLE} (Envoy caps at 5,000,011): at 100,000 servers it is 4.2 M entries, about 42
 * per server, so a server's share is within about ±15% of its weight share and weights below a few units are
 * coarse (a weight-1 server may own 0 or 1 entries). It grows (to at least double) when the pool outgrows it.
 *
 * Maglev has no incremental update, so a change schedules a rebuild, and the rebuild runs in slices
 * ({@link work}, a bounded number of slot claims per pick) or at once ({@link settle}, `pool.rebalance()`),
 * while lookups keep using the previous table. Lookups skip servers that have left since it was built, walking
 * on to the next entries, so no pick returns a server that is not usable; servers that joined get traffic once
 * the new table is in. Only the very first table is built at once, inside the first lookup.
 */
export const MIN_TABLE = 65_537;
export const MAX_TABLE = 4_194_301;

/** One table being filled: the member set and weights as they were when it began. */
interface Build {
  order: Server[];
  /** hash32 of each id (the permutation's offset and skip), snapshot with `order` */
  h1: number[];
  h2: number[];
  /** servers whose weight, offset and skip are set up so far (the set-up runs in slices too) */
  prepared: number;
  weight: Int32Array;
  maxWeight: number;
  /** server index + 1; 0 is an empty slot (a fresh Int32Array needs no fill) */
  table: Int32Array;
  skip: Int32Array;
  next: Int32Array;
  credit: Int32Array;
  filled: number;
  /** the server whose turn comes next */
  turn: number;
  /** that server already took its credit and is part-way through its probe */
  probing: boolean;
}

/** How far a lookup walks past entries of departed servers before it gives up (the caller then rotates). */
const MAX_SKIP = 256;

export class MaglevTable implements HashMapping {
  private readonly members = new Set<Server>();
  /** The members sorted by id, with their id hashes: a rebuild starts from a copy, not a sort. */
  private readonly sorted: Server[] = [];
  private readonly h1: number[] = [];
  private readonly h2: number[] = [];
  /** Table entries are indexes into `order`, plus one. */
  private table: Int32Array = new Int32Array(0);
  private order: Server[] = [];
  private dirty = false;
  private build: Build | undefined;

  constructor(private readonly factor: number) {}

  get size(): number {
    return this.members.size;
  }

  /** The table size in use (a prime), for inspection and tests. */
  get tableSize(): number {
    this.ready();
    return this.table.length;
  }

  /** A table replacement is scheduled or under way. */
  get pending(): boolean {
    return this.dirty || this.build !== undefined;
  }

  add(server: Server): void {
    if (this.members.has(server)) return;
    this.members.add(server);
    const i = this.position(server.id);
    this.sorted.splice(i, 0, server);
    this.h1.splice(i, 0, hash32(server.id, 0x6d61676c));
    this.h2.splice(i, 0, hash32(server.id, 0x65763031));
    this.dirty = true;
  }

  remove(server: Server): void {
    if (!this.members.delete(server)) return;
    const i = this.position(server.id);
    this.sorted.splice(i, 1);
    this.h1.splice(i, 1);
    this.h2.splice(i, 1);
    this.dirty = true;
  }

  reweight(): void {
    this.dirty = true;
  }

  owner(hash: number): Server | undefined {
    this.ready();
    const n = this.table.length;
    if (n === 0) return undefined;
    for (let k = 0, i = hash % n; k < MAX_SKIP; k++, i = i + 1 === n ? 0 : i + 1) {
      const s = this.order[this.table[i]! - 1]!;
      if (this.members.has(s)) return s;
    }
    return undefined;
  }

  *walk(hash: number): Generator<Server> {
    this.ready();
    const table = this.table;
    const order = this.order;
    const n = table.length;
    const seen = new Set<Server>();
    for (let k = 0, i = hash % n; k < n && seen.size < this.members.size; k++, i = i + 1 === n ? 0 : i + 1) {
      const s = order[table[i]! - 1]!;
      if (!seen.has(s) && this.members.has(s)) {
        seen.add(s);
        yield s;
      }
    }
  }

  /** Advances a scheduled rebuild by about `budget` steps (set-ups, turns, probes); swaps it in when complete. */
  work(budget: number): void {
    if (!this.build) {
      if (!this.dirty) return;
      this.dirty = false;
      this.build = this.begin();
    }
    const b = this.build;
    const m = b.table.length;
    const n = b.order.length;
    const { table, weight, skip, next, credit } = b;
    for (; b.prepared < n && budget > 0; b.prepared++, budget -= 4) {
      const k = b.prepared;
      next[k] = b.h1[k]! % m; // the permutation's offset
      skip[k] = (b.h2[k]! % (m - 1)) + 1;
      weight[k] = b.order[k]!.effectiveWeight;
      if (weight[k]! > b.maxWeight) b.maxWeight = weight[k]!;
    }
    const maxWeight = b.maxWeight;
    let filled = b.filled;
    let i = b.turn;
    while (filled < m && budget > 0) {
      // weighted turns: a server of weight w claims w/maxWeight slots per round on average; a server whose
      // probe was cut short by the budget (b.probing) resumes it without taking new credit
      if (!b.probing) {
        budget--;
        credit[i]! += weight[i]!;
        if (credit[i]! < maxWeight) {
          if (++i === n) i = 0;
          continue;
        }
        credit[i]! -= maxWeight;
      }
      let c = next[i]!;
      // near the end of a fill a probe can walk far (Maglev's population is about M ln M probes in all)
      while (table[c] !== 0 && budget > 0) {
        c += skip[i]!;
        if (c >= m) c -= m;
        budget--;
      }
      next[i] = c;
      if (table[c] !== 0) {
        b.probing = true;
        break;
      }
      b.probing = false;
      table[c] = i + 1;
      c += skip[i]!;
      next[i] = c >= m ? c - m : c;
      filled++;
      if (++i === n) i = 0;
    }
    b.filled = filled;
    b.turn = i;
    if (filled < m) return;
    this.build = undefined;
    this.table = table;
    this.order = b.order;
  }

  /** Finishes every scheduled rebuild now. */
  settle(): void {
    while (this.pending) this.work(Number.POSITIVE_INFINITY);
  }

  /** The first table is built at once; later ones in slices. */
  private ready(): void {
    if (this.table.length === 0 && this.pending) this.settle();
  }

  /** Where `id` is or would go in `sorted`. */
  private position(id: string): number {
    const a = this.sorted;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private begin(): Build {
    // a deterministic order, whatever the order of joins: the table depends on the set only
    const n = this.sorted.length;
    // The table size stays put while it is at least factor × servers (a new size remaps every key); when the
    // pool outgrows it, it grows to at least double (one remap), so growth costs are amortised.
    let m = this.table.length;
    if (m === 0 || (m < this.factor * n && m < MAX_TABLE))
      m = Math.min(MAX_TABLE, nextPrime(Math.max(MIN_TABLE, Math.ceil(1.25 * this.factor * n), m * 2)));
    return {
      order: this.sorted.slice(),
      h1: this.h1.slice(),
      h2: this.h2.slice(),
      prepared: 0,
      weight: new Int32Array(n),
      maxWeight: 0,
      table: new Int32Array(n === 0 ? 0 : m),
      skip: new Int32Array(n),
      next: new Int32Array(n),
      credit: new Int32Array(n),
      filled: 0,
      turn: 0,
      probing: false,
    };
  }
}

export function nextPrime(n: number): number {
  let p = Math.max(2, Math.ceil(n));
  while (!isPrime(p)) p++;
  return p;
}

function isPrime(n: number): boolean {
  if (n < 4) return n >= 2;
  if (n % 2 === 0 || n % 3 === 0) return false;
  for (let d = 5; d * d <= n; d += 6) if (n % d === 0 || n % (d + 2) === 0) return false;
  return true;
}
