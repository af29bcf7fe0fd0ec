/**
 * IPv4 / IPv6 text ⇄ bytes, strict (what an operator writes, nothing looser: no leading zeros in IPv4, no zone in
 * the bytes), RFC 5952 formatting, and CIDR prefixes. Returns `undefined` for bad input: each package throws its
 * own error naming the option.
 */

export type Family = 4 | 6;

export interface IpAddress {
  family: Family;
  /** 4 or 16 bytes, network order */
  bytes: Uint8Array;
  /** canonical text: dotted quad, or RFC 5952 */
  text: string;
}

export interface Cidr {
  family: Family;
  /** the network address (host bits cleared) */
  bytes: Uint8Array;
  prefix: number;
  /** canonical `address/prefix` */
  text: string;
}

export function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (const [i, p] of parts.entries()) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function parseIPv6(s: string): Uint8Array | undefined {
  if (s.length === 0 || s.length > 45) return undefined;
  let head = s;
  let v4tail: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    v4tail = parseIPv4(s.slice(lastColon + 1));
    if (!v4tail) return undefined;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const dbl = head.indexOf("::");
  if (dbl !== head.lastIndexOf("::")) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const left = groupsOf(head.slice(0, dbl));
    const right = groupsOf(head.slice(dbl + 2));
    if (!left || !right || left.length + right.length > 7) return undefined;
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    const all = groupsOf(head);
    if (all?.length !== 8) return undefined;
    groups = all;
  }
  const out = new Uint8Array(16);
  for (const [i, g] of groups.entries()) {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  }
  if (v4tail) out.set(v4tail, 12);
  return out;
}

export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952: lowercase, leading zeros dropped, the longest run (>= 2) of zero groups as "::". */
export function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((b[i * 2] ?? 0) << 8) | (b[i * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (bestLen < 2) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Parses an IPv4 or IPv6 address (an IPv6 zone `%eth0` is ignored); undefined when it is neither. */
export function parseIp(text: unknown): IpAddress | undefined {
  if (typeof text !== "string") return undefined;
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4, text: formatIPv4(v4) };
  const pct = text.indexOf("%");
  const v6 = parseIPv6(pct >= 0 ? text.slice(0, pct) : text);
  if (v6) return { family: 6, bytes: v6, text: formatIPv6(v6) };
  return undefined;
}

export function familyOf(text: string): Family | undefined {
  return parseIp(text)?.family;
}

/** The text form of 4 or 16 address bytes starting at `offset`. */
export function formatIp(bytes: Uint8Array, family: Family, offset = 0): string {
  const b =
    offset === 0 && bytes.length === (family === 4 ? 4 : 16)
      ? bytes
      : bytes.subarray(offset, offset + (family === 4 ? 4 : 16));
  return family === 4 ? formatIPv4(b) : formatIPv6(b);
}

/** Byte-wise comparison of two addresses of the same family: < 0, 0, > 0. */
export function compareIp(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** An IPv4 address in IPv6 form (`::ffff:a.b.c.d`, as dual-stack sockets report it) as plain IPv4; others as given. */
export function unmapIPv4(ip: IpAddress): IpAddress {
  const b = ip.bytes;
  if (ip.family !== 6) return ip;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return ip;
  if (b[10] !== 0xff || b[11] !== 0xff) return ip;
  const v4 = b.slice(12, 16);
  return { family: 4, bytes: v4, text: formatIPv4(v4) };
}

/** Parses `address/prefix` (a bare address is a host prefix); undefined when malformed. Host bits are cleared. */
export function parseCidr(text: unknown): Cidr | undefined {
  if (typeof text !== "string") return undefined;
  const slash = text.indexOf("/");
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  const bytes = ip.bytes.slice();
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i]! &= bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return { family: ip.family, bytes, prefix, text: `${formatIp(bytes, ip.family)}/${prefix}` };
}

/** Whether `address` (bytes of the same family as the prefix) lies inside `cidr`. */
export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  if (address.length !== cidr.bytes.length) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((address[full]! & mask) ^ cidr.bytes[full]!) === 0;
}
