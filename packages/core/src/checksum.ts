/** The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-headers upper protocols sum over. */
import type { Family } from "./ip.js";

/** One's-complement sum of 16-bit big-endian words, folded, not inverted. */
export function onesComplementSum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  const n = data.length;
  for (let i = 0; i + 1 < n; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (n % 2 === 1) sum += data[n - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum over the concatenation of `parts` (each part summed as if it started on an even offset). */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) sum = onesComplementSum(p, sum);
  return ~sum & 0xffff;
}

/**
 * The pseudo-header for `protocol` between two addresses of one family: IPv4 (src, dst, 0, proto, length16) or
 * IPv6 (src, dst, length32, 0,0,0, next header) — RFC 768 / RFC 8200 §8.1.
 */
export function pseudoHeader(
  family: Family,
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  length: number,
): Uint8Array {
  if (family === 4) {
    const h = new Uint8Array(12);
    h.set(src, 0);
    h.set(dst, 4);
    h[9] = protocol;
    h[10] = length >> 8;
    h[11] = length & 0xff;
    return h;
  }
  const h = new Uint8Array(40);
  h.set(src, 0);
  h.set(dst, 16);
  new DataView(h.buffer).setUint32(32, length);
  h[39] = protocol;
  return h;
}
