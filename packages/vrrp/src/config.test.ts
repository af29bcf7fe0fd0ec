import { describe, expect, it } from "vitest";
import { validateConfig } from "./config.js";
import { VrrpConfigError } from "./errors.js";

const ok = { vrid: 51, virtualAddresses: ["198.18.0.100/24"] };

describe("validateConfig", () => {
  it("normalises a keepalived-like config with its defaults", () => {
    expect(validateConfig(ok)).toMatchObject({
      vrid: 51,
      priority: 100,
      version: 2,
      advertInterval: 1000,
      family: 4,
      preempt: true,
      virtualAddresses: [{ address: "198.18.0.100", prefixLength: 24, family: 4 }],
    });
    expect(validateConfig({ ...ok, priority: 255 }).priority).toBe(255);
  });
  it.each([
    [{ ...ok, vrid: 0 }, "vrrp: vrid 0 out of range 1..255"],
    [{ ...ok, vrid: 256 }, "vrrp: vrid 256 out of range 1..255"],
    [
      { ...ok, priority: 300 },
      "vrrp: priority 300 out of range 1..254 (255 is reserved for the address owner)",
    ],
    [{ ...ok, priority: 0 }, "vrrp: priority 0 out of range 1..254 (255 is reserved for the address owner)"],
    [{ ...ok, advertInterval: 1500 }, "vrrp: advert interval 1500 ms is not valid for VRRPv2"],
    [{ ...ok, advertInterval: 256_000 }, "vrrp: advert interval 256000 ms is not valid for VRRPv2"],
    [{ ...ok, version: 3 as const, advertInterval: 5 }, "vrrp: advert interval 5 ms is not valid for VRRPv3"],
    [
      { ...ok, version: 3 as const, advertInterval: 41_000 },
      "not valid for VRRPv3 (10 ms steps, 10..40950 ms)",
    ],
    [{ ...ok, version: 3 as const, advertInterval: 15 }, "not valid for VRRPv3"],
    [
      { ...ok, version: 3 as const, virtualAddresses: ["198.18.0.1", "2001:db8::1"] },
      "vrrp: virtual addresses of mixed families (198.18.0.1 is IPv4, 2001:db8::1 is IPv6); use one instance per family",
    ],
    [{ ...ok, virtualAddresses: ["2001:db8::1"] }, "VRRPv2 is IPv4 only"],
    [{ ...ok, virtualAddresses: ["nope"] }, 'virtual address "nope" is not an IPv4 or IPv6 address'],
    [{ ...ok, virtualAddresses: [] }, "virtualAddresses is empty"],
    [{ ...ok, authPassword: "toolongpassword" }, "auth_pass of 15 bytes out of range 1..8"],
    [{ ...ok, version: 3 as const, authPassword: "x" }, "authPassword is VRRPv2 only"],
    [{ ...ok, unicastPeers: ["2001:db8::2"] }, "unicast peer 2001:db8::2 is IPv6"],
  ])("rejects %j", (input, message) => {
    expect(() => validateConfig(input)).toThrow(VrrpConfigError);
    expect(() => validateConfig(input)).toThrow(message);
  });
  it("accepts the ends of each version's interval range", () => {
    expect(validateConfig({ ...ok, advertInterval: 255_000 }).advertInterval).toBe(255_000);
    expect(validateConfig({ ...ok, version: 3, advertInterval: 10 }).advertInterval).toBe(10);
    expect(validateConfig({ ...ok, version: 3, advertInterval: 40_950 }).advertInterval).toBe(40_950);
  });
  it("names the option at fault", () => {
    try {
      validateConfig({ ...ok, priority: 300 });
    } catch (e) {
      expect((e as VrrpConfigError).option).toBe("priority");
    }
    expect.assertions(1);
  });
});
