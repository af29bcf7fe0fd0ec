/**
 * 32-bit hashing for keys. MurmurHash3 (x86, 32-bit) over the string's UTF-16 code units, two per block,
 * which is fast on V8 strings and avalanches well enough for rings and tables. Stable across runs and
 * platforms; not compatible with HAProxy's own hash values (no one can rely on those across versions anyway).
 */
export function hash32(key: string, seed = 0): number {
  let h = seed >>> 0;
  const len = key.length;
  const blocks = len & ~1;
  for (let i = 0; i < blocks; i += 2) {
    let k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (len & 1) {
    let k = key.charCodeAt(len - 1);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= len * 2;
  return fmix32(h);
}

/** Murmur3's finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A deterministic random sequence from a 32-bit state (mulberry32): returns [next state, uniform in (0, 1]]. */
export function nextRandom(state: number): [number, number] {
  const s = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(s ^ (s >>> 15), 1 | s);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return [s, (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967296];
}
