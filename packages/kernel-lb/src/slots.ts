/**
 * Pure: members and weights → the slot tables the kernel map is built from.
 * - `weightedSequence` (wrr): a smooth weighted round-robin order (nginx's), so `numgen inc mod N` over it spreads
 *   by weight without bursts. Weights are divided by their gcd and, past `maxSlots`, scaled down (each usable member
 *   keeps at least one slot): the precision is then 1 / maxSlots of the total.
 * - `hashBuckets` (sh): a fixed number of buckets, each owned by a member through a consistent-hash ring with
 *   points in proportion to weight, so adding or removing a member moves only the buckets it gains or loses.
 */

export interface SlotMember {
  /** stable identity used for hashing (e.g. `address:port`) */
  key: string;
  weight: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Integer weights ≥ 1 whose sum is at most `maxSlots` (when there are no more members than that). */
export function normaliseWeights(weights: readonly number[], maxSlots: number): number[] {
  if (weights.length === 0) return [];
  const g = weights.reduce((acc, w) => gcd(acc, w), 0) || 1;
  let ws = weights.map((w) => w / g);
  const total = ws.reduce((a, b) => a + b, 0);
  if (total > maxSlots) {
    const scale = maxSlots / total;
    ws = ws.map((w) => Math.max(1, Math.floor(w * scale)));
  }
  return ws;
}

/** Member indices in smooth weighted round-robin order; its length is the sum of the normalised weights. */
export function weightedSequence(members: readonly SlotMember[], maxSlots = 4096): number[] {
  const ws = normaliseWeights(
    members.map((m) => m.weight),
    maxSlots,
  );
  const total = ws.reduce((a, b) => a + b, 0);
  const current = new Array<number>(ws.length).fill(0);
  const out: number[] = new Array(total);
  for (let s = 0; s < total; s++) {
    let best = 0;
    for (let i = 0; i < ws.length; i++) {
      current[i]! += ws[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    out[s] = best;
  }
  return out;
}

/** FNV-1a then a murmur3 finaliser: a fast, well-mixed 32-bit hash of a string. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Ring points per unit of normalised weight (a cap), and in all. */
const POINTS_PER_WEIGHT = 256;
const MAX_POINTS = 1 << 20;
const MEMBER_BITS = 2 ** 20;

function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * `buckets` entries, each a member index, assigned by a consistent-hash ring (points ∝ weight, at most 2^20 in
 * all). Deterministic: the same members give the same table on every node and every run.
 */
export function hashBuckets(members: readonly SlotMember[], buckets: number): number[] {
  if (members.length === 0) return [];
  const ws = normaliseWeights(
    members.map((m) => m.weight),
    Math.max(members.length, MAX_POINTS),
  );
  const total = ws.reduce((a, b) => a + b, 0);
  const per = Math.max(1, Math.min(POINTS_PER_WEIGHT, Math.floor(MAX_POINTS / total)));
  // each point is (hash << 20 | member) in a double: sorted numerically, it orders by hash then member
  const ring = new Float64Array(total * per);
  let n = 0;
  for (let i = 0; i < members.length; i++) {
    const base = hash32(members[i]!.key);
    const points = ws[i]! * per;
    for (let p = 0; p < points; p++) ring[n++] = mix32(base + Math.imul(p + 1, 0x9e3779b9)) * MEMBER_BITS + i;
  }
  ring.sort();
  const out: number[] = new Array(buckets);
  for (let b = 0; b < buckets; b++) {
    const h = mix32(hash32(`bucket#${b}`, 0x9e3779b9)) * MEMBER_BITS;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ring[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    out[b] = ring[lo === n ? 0 : lo]! % MEMBER_BITS;
  }
  return out;
}
