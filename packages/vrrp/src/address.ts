/** IPv4/IPv6 text ⇄ bytes, and comparison of primary addresses (ties go to the higher address). */
import { isIPv4, isIPv6 } from "node:net";

export type Family = 4 | 6;

export function familyOf(address: string): Family | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return undefined;
}

export function ipv4ToBytes(address: string): Uint8Array {
  if (!isIPv4(address)) throw new TypeError(`vrrp: ${JSON.stringify(address)} is not an IPv4 address`);
  return Uint8Array.from(address.split(".").map((p) => Number(p)));
}

export function ipv6ToBytes(address: string): Uint8Array {
  if (!isIPv6(address)) throw new TypeError(`vrrp: ${JSON.stringify(address)} is not an IPv6 address`);
  let text = address.split("%")[0]!;
  const out = new Uint8Array(16);
  // an embedded dotted quad (::ffff:1.2.3.4) becomes two groups
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const b = ipv4ToBytes(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...new Array(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

export function addressToBytes(address: string): Uint8Array {
  return isIPv4(address) ? ipv4ToBytes(address) : ipv6ToBytes(address);
}

export function bytesToIpv4(b: Uint8Array, offset = 0): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

/** RFC 5952 text form: lower case, longest run (≥2) of zero groups compressed. */
export function bytesToIpv6(b: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[offset + i * 2]! << 8) | b[offset + i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLen).join(":");
  return `${left}::${right}`;
}

/** Canonical text of an address (so "2001:DB8:0::1" and "2001:db8::1" compare equal). */
export function canonicalAddress(address: string): string {
  return isIPv6(address) ? bytesToIpv6(ipv6ToBytes(address)) : address;
}

/** Compares two addresses of one family as unsigned big-endian numbers: <0, 0, >0. */
export function compareAddresses(a: string, b: string): number {
  const x = addressToBytes(a);
  const y = addressToBytes(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]! - y[i]!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
