import { isIPv6 } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { internetChecksum, pseudoHeader } from "./checksum.js";
import { cidrContains, formatIPv6, parseCidr, parseIp, unmapIPv4 } from "./ip.js";

describe("ip", () => {
  it("parses strictly and formats canonically", () => {
    expect(parseIp("198.18.0.1")?.text).toBe("198.18.0.1");
    expect(parseIp("2001:DB8:0:0:0:0:0:1")?.text).toBe("2001:db8::1");
    expect(parseIp("fe80::1%eth0")?.text).toBe("fe80::1");
    expect(parseIp("::ffff:198.18.0.1")?.bytes.slice(12)).toEqual(Uint8Array.from([198, 18, 0, 1]));
    for (const bad of ["01.2.3.4", "1.2.3", "256.1.1.1", "1:2:3:4:5:6:7:8:9", "::1::", "", "http://x", 42])
      expect(parseIp(bad)).toBeUndefined();
  });

  it("unmaps IPv4-mapped IPv6", () => {
    expect(unmapIPv4(parseIp("::ffff:198.18.0.9")!).text).toBe("198.18.0.9");
    expect(unmapIPv4(parseIp("2001:db8::1")!).text).toBe("2001:db8::1");
  });

  it("CIDR prefixes clear host bits and contain what they should", () => {
    const c = parseCidr("198.18.7.9/20")!;
    expect(c.text).toBe("198.18.0.0/20");
    expect(cidrContains(c, parseIp("198.18.15.255")!.bytes)).toBe(true);
    expect(cidrContains(c, parseIp("198.18.16.0")!.bytes)).toBe(false);
    expect(cidrContains(parseCidr("0.0.0.0/0")!, parseIp("203.0.113.1")!.bytes)).toBe(true);
    expect(cidrContains(parseCidr("2001:db8::/32")!, parseIp("2001:db8:ffff::1")!.bytes)).toBe(true);
    expect(cidrContains(parseCidr("2001:db8::/32")!, parseIp("198.18.0.1")!.bytes)).toBe(false);
    for (const bad of ["198.18.0.0/33", "198.18.0.0/", "198.18.0.0/08", "x/8"])
      expect(parseCidr(bad)).toBeUndefined();
  });

  it("property: IPv6 formatting agrees with node:net and round-trips", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const text = formatIPv6(b);
        expect(isIPv6(text)).toBe(true);
        expect(parseIp(text)?.bytes).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });
});

describe("checksum", () => {
  it("RFC 1071 example and a checksummed buffer sums to zero", () => {
    const data = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(internetChecksum(data)).toBe(~0xddf2 & 0xffff);
    const withSum = Uint8Array.from([...data, 0, 0]);
    const sum = internetChecksum(data);
    withSum[8] = sum >> 8;
    withSum[9] = sum & 0xff;
    expect(internetChecksum(withSum)).toBe(0);
  });

  it("pseudo-headers have the RFC layouts", () => {
    const v4 = pseudoHeader(4, parseIp("198.18.0.1")!.bytes, parseIp("224.0.0.18")!.bytes, 112, 20);
    expect([...v4]).toEqual([198, 18, 0, 1, 224, 0, 0, 18, 0, 112, 0, 20]);
    const v6 = pseudoHeader(6, parseIp("fe80::1")!.bytes, parseIp("ff02::12")!.bytes, 112, 40);
    expect(v6.length).toBe(40);
    expect([...v6.slice(32)]).toEqual([0, 0, 0, 40, 0, 0, 0, 112]);
  });
});
