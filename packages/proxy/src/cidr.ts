/**
 * Pure IP prefix maps (nginx `geo`): IPv4 and IPv6 CIDRs → a value, longest prefix wins. A binary trie over
 * the address bits; IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, as Node reports dual-stack clients) are
 * looked up as IPv4.
 */

/** Address bits as 32-bit words: 1 word for IPv4, 4 for IPv6. Undefined when `text` is not an address. */
export function parseIp(text: string): Uint32Array | undefined {
  if (text.includes(":")) {
    const v6 = parseIpv6(text);
    if (v6 && v6[0] === 0 && v6[1] === 0 && v6[2] === 0xffff) return Uint32Array.of(v6[3] as number);
    return v6;
  }
  return parseIpv4(text);
}

function parseIpv4(text: string): Uint32Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return Uint32Array.of(n);
}

function parseIpv6(input: string): Uint32Array | undefined {
  let text = input;
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  const groups: number[] = [];
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parseHalf = (h: string): number[] | undefined => {
    if (h === "") return [];
    const out: number[] = [];
    const items = h.split(":");
    for (let i = 0; i < items.length; i++) {
      const it = items[i] as string;
      if (i === items.length - 1 && it.includes(".")) {
        const v4 = parseIpv4(it);
        if (!v4) return undefined;
        const n = v4[0] as number;
        out.push(n >>> 16, n & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(it)) out.push(Number.parseInt(it, 16));
      else return undefined;
    }
    return out;
  };
  const head = parseHalf(halves[0] as string);
  const tail = halves.length === 2 ? parseHalf(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    groups.push(...head, ...new Array<number>(fill).fill(0), ...tail);
  } else groups.push(...head);
  if (groups.length !== 8) return undefined;
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++)
    words[i] = (((groups[2 * i] as number) << 16) | (groups[2 * i + 1] as number)) >>> 0;
  return words;
}

export interface Cidr {
  bits: Uint32Array;
  prefix: number;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). Undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bits = parseIp(addr.trim());
  if (!bits) return undefined;
  const max = bits.length * 32;
  if (slash < 0) return { bits, prefix: max };
  const p = text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(p)) return undefined;
  let prefix = Number(p);
  // an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) becomes the IPv4 prefix
  if (bits.length === 1 && addr.includes(":")) prefix -= 96;
  if (prefix < 0 || prefix > max) return undefined;
  return { bits, prefix };
}

interface Node<V> {
  zero?: Node<V>;
  one?: Node<V>;
  value?: V;
  has: boolean;
}

function bit(words: Uint32Array, i: number): number {
  return ((words[i >>> 5] as number) >>> (31 - (i & 31))) & 1;
}

/** Longest-prefix map from CIDRs to values. */
export class CidrMap<V> {
  private readonly v4: Node<V> = { has: false };
  private readonly v6: Node<V> = { has: false };
  size = 0;

  /** Returns false when `cidr` is malformed. A repeated CIDR replaces the earlier value. */
  set(cidr: string, value: V): boolean {
    const c = parseCidr(cidr);
    if (!c) return false;
    let node = c.bits.length === 1 ? this.v4 : this.v6;
    for (let i = 0; i < c.prefix; i++) {
      const key = bit(c.bits, i) ? "one" : "zero";
      node = node[key] ??= { has: false };
    }
    if (!node.has) this.size++;
    node.value = value;
    node.has = true;
    return true;
  }

  /** The value of the longest prefix holding `address` (a textual IPv4/IPv6 address), if any. */
  get(address: string): V | undefined {
    const bits = parseIp(address);
    return bits ? this.lookup(bits) : undefined;
  }

  lookup(bits: Uint32Array): V | undefined {
    let node: Node<V> | undefined = bits.length === 1 ? this.v4 : this.v6;
    let best: V | undefined;
    const max = bits.length * 32;
    for (let i = 0; node; i++) {
      if (node.has) best = node.value;
      if (i === max) break;
      node = bit(bits, i) ? node.one : node.zero;
    }
    return best;
  }
}
