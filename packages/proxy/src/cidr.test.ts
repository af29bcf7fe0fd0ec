import { cidrContains, parseCidr, parseIp, unmapIPv4 } from "@lbkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CidrMap } from "./cidr.js";

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join("."));
const v6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((g) => g.map((x) => x.toString(16)).join(":"));
const v4Cidr = fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`);
const v6Cidr = fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`);

/** The reference: scan every prefix, keep the longest that contains the address (last one set wins a tie). */
function brute(entries: [string, number][], address: string): number | undefined {
  const ip = parseIp(address);
  if (!ip) return undefined;
  const bytes = unmapIPv4(ip).bytes;
  let best: { prefix: number; value: number } | undefined;
  for (const [cidr, value] of entries) {
    const c = parseCidr(cidr);
    if (!c || !cidrContains(c, bytes)) continue;
    if (!best || c.prefix >= best.prefix) best = { prefix: c.prefix, value };
  }
  return best?.value;
}

describe("CidrMap (property)", () => {
  it("agrees with a brute-force longest-prefix scan, IPv4 and IPv6", { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(v4Cidr, v6Cidr), { minLength: 1, maxLength: 30 }),
        fc.array(fc.oneof(v4, v6), { minLength: 1, maxLength: 20 }),
        (cidrs, addresses) => {
          const map = new CidrMap<number>();
          const entries = cidrs.map((c, i) => [c, i] as [string, number]);
          for (const [c, i] of entries) expect(map.set(c, i)).toBe(true);
          // probe the prefixes' own network addresses as well as random ones
          const probes = [...addresses, ...cidrs.map((c) => c.slice(0, c.indexOf("/")))];
          for (const a of probes) expect(map.get(a)).toBe(brute(entries, a));
        },
      ),
      { numRuns: 300 },
    );
  });
});
