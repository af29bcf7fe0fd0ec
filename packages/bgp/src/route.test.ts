import { describe, expect, it } from "vitest";
import { BgpConfigError } from "./errors.js";
import { gobgpApi } from "./proto.js";
import { buildPath, formatCommunity, normalizeRoute, parseCommunity } from "./route.js";

describe("VIP routes", () => {
  it("normalizes a bare address to its host prefix and validates attributes", () => {
    expect(normalizeRoute({ prefix: "198.18.1.1" })).toMatchObject({ prefix: "198.18.1.1/32", family: 4 });
    expect(normalizeRoute({ prefix: "2001:db8:0::1" })).toMatchObject({
      prefix: "2001:db8::1/128",
      family: 6,
    });
    expect(() => normalizeRoute({ prefix: "198.18.1.300/32" })).toThrow(BgpConfigError);
    expect(() => normalizeRoute({ prefix: "198.18.1.1", med: -1 })).toThrow(/route\.med/);
    expect(() => normalizeRoute({ prefix: "198.18.1.1", asPathPrepend: 17 })).toThrow(/asPathPrepend/);
    expect(() => normalizeRoute({ prefix: "198.18.1.1", communities: ["65536:1"] })).toThrow(
      /route\.communities\[0\]/,
    );
  });

  it("reads communities as RFC 1997 values, well-known names included", () => {
    expect(parseCommunity("c", "65001:100")).toBe(((65001 << 16) + 100) >>> 0);
    expect(parseCommunity("c", "no-export")).toBe(0xffffff01);
    expect(formatCommunity(parseCommunity("c", "65001:100"))).toBe("65001:100");
    expect(formatCommunity(0xffffff02)).toBe("no-advertise");
  });

  it("builds GoBGP paths whose attributes decode back (IPv4 NEXT_HOP, IPv6 MP_REACH)", () => {
    const { pack, unpack } = gobgpApi();
    const r4 = normalizeRoute({
      prefix: "198.18.1.1/32",
      med: 10,
      localPref: 200,
      asPathPrepend: 2,
      communities: ["65001:7"],
    });
    const p4 = buildPath(r4, "198.18.0.11", 65001, pack) as { nlri: never; pattrs: never[] };
    expect(unpack(p4.nlri)).toMatchObject({
      "@type": "apipb.IPAddressPrefix",
      prefix: "198.18.1.1",
      prefixLen: 32,
    });
    const attrs = p4.pattrs.map((a) => unpack(a));
    expect(attrs.map((a) => a["@type"])).toEqual([
      "apipb.OriginAttribute",
      "apipb.NextHopAttribute",
      "apipb.AsPathAttribute",
      "apipb.MultiExitDiscAttribute",
      "apipb.LocalPrefAttribute",
      "apipb.CommunitiesAttribute",
    ]);
    expect(attrs[1]).toMatchObject({ nextHop: "198.18.0.11" });
    expect(attrs[2]).toMatchObject({ segments: [{ type: "AS_SEQUENCE", numbers: [65001, 65001] }] });
    expect(attrs[3]).toMatchObject({ med: 10 });
    expect(attrs[5]).toMatchObject({ communities: [((65001 << 16) + 7) >>> 0] });
    const p6 = buildPath(normalizeRoute({ prefix: "2001:db8:1::1/128" }), "2001:db8::11", 65001, pack) as {
      pattrs: never[];
    };
    const mp = unpack(p6.pattrs[1]!);
    expect(mp).toMatchObject({ "@type": "apipb.MpReachNLRIAttribute", nextHops: ["2001:db8::11"] });
    expect(mp.family).toEqual({ afi: "AFI_IP6", safi: "SAFI_UNICAST" });
  });
});
