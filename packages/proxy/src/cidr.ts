/**
 * Longest-prefix maps from client CIDRs to values (nginx `geo`, HAProxy `src` ACLs): a binary trie over the
 * address bits, IPv4 and IPv6 apart. Addresses and prefixes are parsed by @lbkit/core; IPv4-mapped IPv6
 * addresses (`::ffff:1.2.3.4`, as dual-stack sockets report clients) are looked up as IPv4, and a mapped
 * prefix (`::ffff:10.0.0.0/104`) is stored as its IPv4 prefix.
 */
import { parseCidr, parseIp, unmapIPv4 } from "@lbkit/core";

interface Node<V> {
  zero?: Node<V>;
  one?: Node<V>;
  value?: V;
  has: boolean;
}

function bit(bytes: Uint8Array, i: number): number {
  return ((bytes[i >>> 3] as number) >>> (7 - (i & 7))) & 1;
}

function isMapped(b: Uint8Array): boolean {
  if (b.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

export class CidrMap<V> {
  private readonly v4: Node<V> = { has: false };
  private readonly v6: Node<V> = { has: false };
  size = 0;

  /** Returns false when `cidr` is malformed. A repeated prefix replaces the earlier value. */
  set(cidr: string, value: V): boolean {
    const c = parseCidr(cidr);
    if (!c) return false;
    let bytes = c.bytes;
    let prefix = c.prefix;
    if (prefix >= 96 && isMapped(bytes)) {
      bytes = bytes.subarray(12);
      prefix -= 96;
    }
    let node = bytes.length === 4 ? this.v4 : this.v6;
    for (let i = 0; i < prefix; i++) {
      const key = bit(bytes, i) ? "one" : "zero";
      node = node[key] ??= { has: false };
    }
    if (!node.has) this.size++;
    node.value = value;
    node.has = true;
    return true;
  }

  /** The value of the longest prefix holding `address` (textual IPv4/IPv6), if any. */
  get(address: string): V | undefined {
    const ip = parseIp(address);
    return ip ? this.lookup(unmapIPv4(ip).bytes) : undefined;
  }

  /** Lookup by address bytes (4 or 16). */
  lookup(bytes: Uint8Array): V | undefined {
    let node: Node<V> | undefined = bytes.length === 4 ? this.v4 : this.v6;
    let best: V | undefined;
    const max = bytes.length * 8;
    for (let i = 0; node; i++) {
      if (node.has) best = node.value;
      if (i === max) break;
      node = bit(bytes, i) ? node.one : node.zero;
    }
    return best;
  }
}
