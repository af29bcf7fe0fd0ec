import { describe, expect, it } from "vitest";
import { screenAdvert } from "./advert-policy.js";
import type { Advert } from "./codec.js";

const advert = (priority: number, addresses: string[]): Advert => ({
  version: 3,
  vrid: 9,
  priority,
  advertInterval: 100,
  addresses,
});

describe("screenAdvert (keepalived 2.2's address checks, the owner's conflict)", () => {
  const ctx = { vips: ["198.18.0.100", "2001:db8::1"], priority: 100 };

  it("passes an advert listing our addresses, in any order and text form", () => {
    expect(screenAdvert(ctx, "198.18.0.1", advert(150, ["2001:DB8:0::1", "198.18.0.100"]))).toBeUndefined();
  });

  it("drops a different address count, and a list that misses one of ours, naming the fix", () => {
    const n = screenAdvert(ctx, "198.18.0.1", advert(150, ["198.18.0.100"]));
    expect(n).toMatchObject({ reason: "addresses", configError: false });
    expect(n?.detail).toMatch(/lists 1 address\(es\), this router has 2/);
    const l = screenAdvert(ctx, "198.18.0.1", advert(150, ["198.18.0.100", "2001:db8::2"]));
    expect(l).toMatchObject({ reason: "addresses" });
    expect(l?.detail).toContain("does not list 2001:db8::1");
    expect(screenAdvert({ ...ctx, vips: [] }, "198.18.0.1", advert(1, []))).toBeUndefined();
  });

  it("the address owner drops another priority-255 advert as a configuration error; others pass", () => {
    const own = { vips: ["198.18.0.100"], priority: 255 };
    expect(screenAdvert(own, "198.18.0.250", advert(255, ["198.18.0.100"]))).toMatchObject({
      reason: "owner-conflict",
      configError: true,
    });
    expect(screenAdvert(own, "198.18.0.250", advert(254, ["198.18.0.100"]))).toBeUndefined();
    expect(
      screenAdvert({ ...own, priority: 254 }, "198.18.0.250", advert(255, ["198.18.0.100"])),
    ).toBeUndefined();
  });
});
