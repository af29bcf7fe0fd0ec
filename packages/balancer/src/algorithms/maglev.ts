import { hash32 } from "../hash.js";
import type { Server } from "../server.js";
import { LookupTable } from "./mapping.js";

/**
 * Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table of prime size M ≥ 100 × servers, filled by each
 * server walking its own permutation of the slots. Lookups are one array read; the table gives near-perfect
 * balance and moves little more than the departing server's share when membership changes.
 * Weighted: a server claims slots in proportion to its weight. The table is rebuilt lazily on the first lookup
 * after a change (Maglev has no incremental update), so a burst of changes costs one rebuild.
 */
/** The smallest table: 65537 entries (a prime), enough for 655 servers at 100 entries each. */
export const MIN_TABLE = 65_537;

export class MaglevTable extends LookupTable {
  private table = new Int32Array(0);
  private order: Server[] = [];

  constructor(private readonly factor: number) {
    super();
  }

  /** The table size in use (a prime), for inspection and tests. */
  get tableSize(): number {
    return this.fresh();
  }

  protected get length(): number {
    return this.table.length;
  }

  protected slot(i: number): Server | undefined {
    return this.order[this.table[i]!];
  }

  protected rebuild(): void {
    // a deterministic order, whatever the order of joins: the table depends on the set only
    const order = [...this.members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.order = order;
    const n = order.length;
    if (n === 0) {
      this.table = this.table.fill(-1);
      return;
    }
    // The table size stays put while it is at least factor × servers: a new size would remap every key.
    // When the pool outgrows it, it grows to at least double (one remap), so growth costs are amortised.
    let m = this.table.length;
    if (m === 0 || m < this.factor * n)
      m = nextPrime(Math.max(MIN_TABLE, Math.ceil(1.25 * this.factor * n), m * 2));
    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const next = new Float64Array(n);
    const credit = new Float64Array(n);
    let maxWeight = 0;
    for (let i = 0; i < n; i++) {
      const s = order[i]!;
      offset[i] = hash32(s.id, 0x6d61676c) % m;
      skip[i] = (hash32(s.id, 0x65763031) % (m - 1)) + 1;
      next[i] = offset[i]!;
      maxWeight = Math.max(maxWeight, s.effectiveWeight);
    }
    const table = new Int32Array(m).fill(-1);
    let filled = 0;
    while (filled < m) {
      for (let i = 0; i < n && filled < m; i++) {
        // weighted turns: a server of weight w claims w/maxWeight slots per round on average
        credit[i]! += order[i]!.effectiveWeight;
        if (credit[i]! < maxWeight) continue;
        credit[i]! -= maxWeight;
        let c = next[i]!;
        while (table[c] !== -1) {
          c += skip[i]!;
          if (c >= m) c -= m;
        }
        table[c] = i;
        c += skip[i]!;
        next[i] = c >= m ? c - m : c;
        filled++;
      }
    }
    this.table = table;
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
