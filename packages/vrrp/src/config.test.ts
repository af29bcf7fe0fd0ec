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
    [{ ...ok, vrid: 0 }, "vrrp: vrid 0 must be an integer 1..255"],
    [{ ...ok, vrid: 256 }, "vrrp: vrid 256 must be an integer 1..255"],
    [
      { ...ok, priority: 300 },
      "vrrp: priority 300 must be an integer 1..254 (255 is reserved for the address owner)",
    ],
    [
      { ...ok, priority: 0 },
      "vrrp: priority 0 must be an integer 1..254 (255 is reserved for the address owner)",
    ],
    [{ ...ok, advertInterval: 1500 }, "vrrp: advertInterval 1500 is not valid for VRRPv2"],
    [{ ...ok, advertInterval: 256_000 }, "vrrp: advertInterval 256000 is not valid for VRRPv2"],
    [{ ...ok, version: 3 as const, advertInterval: 5 }, "vrrp: advertInterval 5 is not valid for VRRPv3"],
    [
      { ...ok, version: 3 as const, advertInterval: 41_000 },
      "not valid for VRRPv3: ms in 10 ms steps, 10..40950",
    ],
    [{ ...ok, version: 3 as const, advertInterval: 15 }, "not valid for VRRPv3"],
    [
      { ...ok, version: 3 as const, virtualAddresses: ["198.18.0.1", "2001:db8::1"] },
      'vrrp: virtualAddresses ["198.18.0.1","2001:db8::1"] mix families (198.18.0.1 is IPv4, 2001:db8::1 is IPv6); use one instance per family',
    ],
    [{ ...ok, virtualAddresses: ["2001:db8::1"] }, "vrrp: version 2 is IPv4 only"],
    [{ ...ok, virtualAddresses: ["nope"] }, 'vrrp: virtualAddresses "nope" is not an IPv4 or IPv6 address'],
    [{ ...ok, virtualAddresses: [] }, "vrrp: virtualAddresses [] must list at least one VIP"],
    [{ ...ok, authPassword: "toolongpassword" }, "has 15 bytes; keepalived's auth_pass takes 1..8"],
    [{ ...ok, version: 3 as const, authPassword: "x" }, 'vrrp: authPassword "x" is VRRPv2 only'],
    [{ ...ok, unicastPeers: ["2001:db8::2"] }, 'vrrp: unicastPeers "2001:db8::2" is IPv6'],
  ])("rejects %j", (input, message) => {
    expect(() => validateConfig(input)).toThrow(VrrpConfigError);
    expect(() => validateConfig(input)).toThrow(message);
  });
  it("a keepalived advert_int in seconds is rejected with the ms it means", () => {
    expect(() => validateConfig({ ...ok, advertInterval: 1 })).toThrow(
      "vrrp: advertInterval 1 is not valid for VRRPv2: whole seconds in ms, 1000..255000 (use version 3 for sub-second adverts); advertInterval is in ms: keepalived's advert_int 1 is 1000",
    );
    expect(() => validateConfig({ ...ok, version: 3, advertInterval: 3 })).toThrow(
      "advertInterval is in ms: keepalived's advert_int 3 is 3000",
    );
    try {
      validateConfig({ ...ok, advertInterval: 1 });
    } catch (e) {
      expect(e).toMatchObject({ code: "ERR_CONFIG", option: "advertInterval", value: 1 });
      expect((e as VrrpConfigError).fix).toContain("1000");
    }
  });
  it("checks sourceAddress (keepalived unicast_src_ip)", () => {
    expect(validateConfig({ ...ok, sourceAddress: "198.18.0.1" }).sourceAddress).toBe("198.18.0.1");
    expect(() => validateConfig({ ...ok, sourceAddress: "2001:db8::1" })).toThrow(
      'vrrp: sourceAddress "2001:db8::1" is IPv6 but the virtual addresses are IPv4',
    );
    expect(() => validateConfig({ ...ok, sourceAddress: "nope" })).toThrow(VrrpConfigError);
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
