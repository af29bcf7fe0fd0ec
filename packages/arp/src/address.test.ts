import { formatIPv6 } from "@lbkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAddress } from "./address.js";
import { ArpError } from "./errors.js";

describe("parseAddress", () => {
  it.each([
    ["198.18.0.1", 4, "198.18.0.1"],
    ["0.0.0.0", 4, "0.0.0.0"],
    ["2001:db8::1", 6, "2001:db8::1"],
    ["2001:DB8:0:0:0:0:0:1", 6, "2001:db8::1"],
    ["::", 6, "::"],
    ["::1", 6, "::1"],
    ["fe80::", 6, "fe80::"],
    ["2001:db8:0:1:0:0:0:1", 6, "2001:db8:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", 6, "2001:db8::1:0:0:1"],
    ["2001:db8:1:2:3:4:5:6", 6, "2001:db8:1:2:3:4:5:6"],
    ["::ffff:198.18.0.1", 6, "::ffff:c612:1"],
  ])("%s → IPv%i %s", (text, family, canonical) => {
    const a = parseAddress(text);
    expect(a.family).toBe(family);
    expect(a.text).toBe(canonical);
    expect(a.bytes.length).toBe(family === 4 ? 4 : 16);
  });

  it.each([
    "1.2.3",
    "256.1.1.1",
    "01.2.3.4",
    "1.2.3.4/24",
    " 1.2.3.4",
    "",
    "2001:db8::1::2",
    "2001:db8:1:2:3:4:5:6:7",
    "2001:db8::g",
    "fe80::1%eth0",
    "12345::1",
    "vip.example",
  ])("rejects %j with the value named", (text) => {
    expect(() => parseAddress(text)).toThrow(ArpError);
    expect(() => parseAddress(text)).toThrow(
      `arp: address ${JSON.stringify(text)} is not a valid IPv4 or IPv6 address`,
    );
  });

  it("gives the exact documented message", () => {
    expect(() => parseAddress("1.2.3")).toThrow('arp: address "1.2.3" is not a valid IPv4 or IPv6 address');
  });

  it("IPv6 text → bytes → text is stable and re-parses to the same bytes (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const text = formatIPv6(b);
        const a = parseAddress(text);
        expect([...a.bytes]).toEqual([...b]);
        expect(a.text).toBe(text);
      }),
    );
  });
});
