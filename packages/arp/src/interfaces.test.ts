// getInterface reads the loopback interface of the namespace the test runs in (read only: nothing is sent).
import { describe, expect, it } from "vitest";
import { ArpError } from "./errors.js";
import { ethernetMac, getInterface } from "./interfaces.js";

describe("getInterface", () => {
  it("reads index, flags and, on request, addresses", async () => {
    const lo = await getInterface("lo", { addresses: true });
    expect(lo.ifindex).toBeGreaterThan(0);
    expect(lo.up).toBe(true);
    expect(lo.addresses).toContainEqual(
      expect.objectContaining({ family: 4, address: "127.0.0.1", prefixLength: 8, scope: 254 }),
    );
    expect((await getInterface("lo")).addresses).toBeUndefined();
  });

  it("names a missing or malformed interface with ERR_NO_INTERFACE", async () => {
    await expect(getInterface("lbkitnope0")).rejects.toMatchObject({ code: "ERR_NO_INTERFACE" });
    await expect(getInterface("bad/name")).rejects.toThrow(ArpError);
  });

  it("announcements need an Ethernet MAC", () => {
    expect(() => ethernetMac({ name: "tun0", ifindex: 9, mac: undefined, up: true, running: true })).toThrow(
      'arp: interface "tun0" has no Ethernet MAC',
    );
  });
});
