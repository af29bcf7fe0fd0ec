import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { Announcer, announce } from "./announce.js";
import { normalizeAnnounceOptions, planBurst } from "./burst.js";
import { ArpError } from "./errors.js";
import { parseArp, parseNdp } from "./frames.js";
import type { InterfaceInfo } from "./interfaces.js";
import type { FrameSender } from "./socket.js";

const INFO: InterfaceInfo = { name: "eth0", ifindex: 7, mac: "02:00:00:00:00:0a", up: true, running: true };

function fakeWire(clock: FakeTime) {
  const frames: { at: number; bytes: Uint8Array }[] = [];
  let closed = 0;
  let failNext: Error | undefined;
  const sender: FrameSender = {
    send(bytes) {
      if (failNext) {
        const e = failNext;
        failNext = undefined;
        throw e;
      }
      frames.push({ at: clock.now(), bytes });
    },
    close() {
      closed++;
    },
  };
  return {
    frames,
    get closed() {
      return closed;
    },
    fail(e: Error) {
      failNext = e;
    },
    open: async (name: string) => ({ info: { ...INFO, name }, sender }),
  };
}

describe("option validation (at construction)", () => {
  it.each([
    [{ addresses: ["1.2.3"] }, 'arp: address "1.2.3" is not a valid IPv4 or IPv6 address'],
    [{ addresses: [] }, "at least one"],
    [{ addresses: ["198.18.0.1"], count: 0 }, "arp: count 0 must be an integer 1..1000"],
    [{ addresses: ["198.18.0.1"], count: 1.5 }, "arp: count 1.5 must be an integer"],
    [{ addresses: ["198.18.0.1"], interval: -1 }, "arp: interval -1 must be milliseconds 0..60000"],
    [
      { addresses: ["198.18.0.1"], form: "gratuitous" },
      'arp: form "gratuitous" must be one of "request", "reply", "both"',
    ],
    [{ addresses: ["ff02::1"] }, "multicast"],
    [{ addresses: ["198.18.0.1"], mac: "zz" }, 'MAC address "zz"'],
  ])("%j → %s", async (partial, message) => {
    const opts = { interface: "eth0", ...partial } as Parameters<typeof announce>[0];
    // nothing is opened or sent: announce() rejects on the options alone
    await expect(announce({ ...opts, open: () => Promise.reject(new Error("opened")) })).rejects.toThrow(
      message,
    );
    if ("count" in partial) return;
    expect(() => normalizeAnnounceOptions(opts)).toThrow(ArpError);
    expect(() => normalizeAnnounceOptions(opts)).toThrow(message);
    expect(() => new Announcer(opts)).toThrow(message);
  });

  it("names repeat (garp_master_repeat) for the Announcer", () => {
    expect(() => new Announcer({ interface: "eth0", addresses: ["198.18.0.1"], repeat: 0 })).toThrow(
      "arp: repeat 0 must be an integer 1..1000",
    );
  });

  it("rejects a refresh below 100 ms", () => {
    expect(() => new Announcer({ interface: "eth0", addresses: ["198.18.0.1"], refresh: 10 })).toThrow(
      "arp: refresh 10 must be 0 (off) or at least 100 ms",
    );
  });

  it("dedupes addresses by canonical form", () => {
    const n = normalizeAnnounceOptions({
      interface: "e",
      addresses: ["2001:db8::1", "2001:DB8:0::1", "198.18.0.1"],
    });
    expect(n.addresses.map((a) => a.text)).toEqual(["2001:db8::1", "198.18.0.1"]);
  });
});

describe("planBurst", () => {
  const addrs = normalizeAnnounceOptions({
    interface: "e",
    addresses: ["198.18.0.100", "2001:db8::100"],
  }).addresses;
  it("sends count rounds of one frame per address, IPv4 and IPv6 mixed", () => {
    const plan = planBurst(addrs, { count: 3, form: "request", mac: INFO.mac! });
    expect(plan.map((f) => f.kind)).toEqual(["arp-request", "na", "arp-request", "na", "arp-request", "na"]);
  });
  it("form both sends request then reply per IPv4 address; reply only the reply", () => {
    expect(planBurst(addrs, { count: 1, form: "both", mac: INFO.mac! }).map((f) => f.kind)).toEqual([
      "arp-request",
      "arp-reply",
      "na",
    ]);
    expect(planBurst(addrs, { count: 1, form: "reply", mac: INFO.mac! }).map((f) => f.kind)).toEqual([
      "arp-reply",
      "na",
    ]);
  });
});

describe("announce()", () => {
  it("sends the burst back to back with interval 0, returns what it sent, closes the socket", async () => {
    const clock = new FakeTime();
    const wire = fakeWire(clock);
    const r = await announce({
      interface: "eth0",
      addresses: ["198.18.0.100", "2001:db8::100"],
      count: 2,
      time: clock,
      open: wire.open,
    });
    expect(r).toMatchObject({ interface: "eth0", ifindex: 7, mac: INFO.mac! });
    expect(r.frames.map((f) => [f.kind, f.address])).toEqual([
      ["arp-request", "198.18.0.100"],
      ["na", "2001:db8::100"],
      ["arp-request", "198.18.0.100"],
      ["na", "2001:db8::100"],
    ]);
    expect(wire.frames.map((f) => Buffer.from(f.bytes).toString("hex"))).toEqual(
      r.frames.map((f) => Buffer.from(f.bytes).toString("hex")),
    );
    expect(parseArp(wire.frames[0]!.bytes).senderMac).toBe(INFO.mac);
    expect(parseNdp(wire.frames[1]!.bytes).targetLinkLayer).toBe(INFO.mac);
    expect(wire.closed).toBe(1);
  });

  it("spaces frames by interval (garp_interval) and sends a second burst after delay", async () => {
    const clock = new FakeTime();
    const wire = fakeWire(clock);
    const p = announce({
      interface: "eth0",
      addresses: ["198.18.0.100"],
      count: 3,
      interval: 200,
      delay: 5000,
      time: clock,
      open: wire.open,
    });
    await clock.advance(20_000);
    const r = await p;
    expect(r.frames.map((f) => f.at)).toEqual([0, 200, 400, 5400, 5600, 5800]);
    expect(wire.frames.map((f) => f.at)).toEqual([0, 200, 400, 5400, 5600, 5800]);
  });

  it("announces a given MAC (a VRRP virtual MAC) instead of the interface's", async () => {
    const clock = new FakeTime();
    const wire = fakeWire(clock);
    const r = await announce({
      interface: "eth0",
      addresses: ["198.18.0.100"],
      count: 1,
      mac: "00:00:5e:00:01:33",
      time: clock,
      open: wire.open,
    });
    expect(r.mac).toBe("00:00:5e:00:01:33");
    expect(parseArp(wire.frames[0]!.bytes).senderMac).toBe("00:00:5e:00:01:33");
  });

  it("closes the socket when a send fails, and rejects with the error", async () => {
    const clock = new FakeTime();
    const wire = fakeWire(clock);
    wire.fail(new ArpError("ERR_SEND", "arp: cannot send a frame: interface eth0 is down"));
    await expect(
      announce({ interface: "eth0", addresses: ["198.18.0.100"], count: 1, time: clock, open: wire.open }),
    ).rejects.toThrow(/is down/);
    expect(wire.closed).toBe(1);
  });
});

describe("Announcer (keepalived's MASTER schedule)", () => {
  it("defaults: 5 per address at start, 5 more after 5 s (garp_master_delay), then nothing", async () => {
    const clock = new FakeTime();
    const wire = fakeWire(clock);
    const a = new Announcer({ interface: "eth0", addresses: ["198.18.0.100"], time: clock, open: wire.open });
    expect(a.options).toEqual({ repeat: 5, delay: 5000, refresh: 0, refreshRepeat: 1 });
    await a.start();
    expect(wire.frames.map((f) => f.at)).toEqual([0, 0, 0, 0, 0]);
    await clock.advance(4999);
    expect(wire.frames.length).toBe(5);
    await clock.advance(1);
    expect(wire.frames.length).toBe(10);
    await clock.advance(3_600_000);
    expect(wire.frames.length).toBe(10); // like the keepalived capture: 5 + 5, then none
    expect(a.sent).toBe(10);
    await a.stop();
    expect(wire.closed).toBe(1);
  });

  it("refreshes every garp_master_refresh with garp_master_refresh_repeat frames until stop()", async () => {
    const clock = new FakeTime();
    const wire = fakeWire(clock);
    const a = new Announcer({
      interface: "eth0",
      addresses: ["198.18.0.100", "2001:db8::100"],
      repeat: 2,
      delay: 0,
      refresh: 60_000,
      refreshRepeat: 1,
      time: clock,
      open: wire.open,
    });
    await a.start();
    expect(wire.frames.length).toBe(4);
    await clock.advance(60_000 * 3);
    expect(wire.frames.map((f) => f.at)).toEqual([
      0, 0, 0, 0, 60_000, 60_000, 120_000, 120_000, 180_000, 180_000,
    ]);
    await a.stop();
    expect(clock.pending).toBe(0);
    await clock.advance(600_000);
    expect(wire.frames.length).toBe(10);
    expect(a.running).toBe(false);
  });

  it("paces every frame on the interface by interval, across bursts", async () => {
    const clock = new FakeTime();
    const wire = fakeWire(clock);
    const a = new Announcer({
      interface: "eth0",
      addresses: ["198.18.0.100"],
      repeat: 3,
      delay: 100,
      interval: 100,
      time: clock,
      open: wire.open,
    });
    const started = a.start();
    await clock.advance(1000);
    await started;
    // burst 1 at 0,100,200; burst 2 is due at 100 but queues behind burst 1: 300,400,500
    expect(wire.frames.map((f) => f.at)).toEqual([0, 100, 200, 300, 400, 500]);
    await a.stop();
  });

  it("stop() during a paced burst sends nothing more and lets start() resolve", async () => {
    const clock = new FakeTime();
    const wire = fakeWire(clock);
    const a = new Announcer({
      interface: "eth0",
      addresses: ["198.18.0.100"],
      repeat: 5,
      interval: 1000,
      time: clock,
      open: wire.open,
    });
    const started = a.start();
    await clock.advance(1500);
    await a.stop();
    await started;
    await clock.advance(60_000);
    expect(wire.frames.length).toBe(2);
    expect(clock.pending).toBe(0);
  });

  it("can be started again after stop (a second MASTER transition)", async () => {
    const clock = new FakeTime();
    const wire = fakeWire(clock);
    const a = new Announcer({
      interface: "eth0",
      addresses: ["198.18.0.100"],
      repeat: 1,
      delay: 0,
      time: clock,
      open: wire.open,
    });
    await a.start();
    await a.stop();
    await a.start();
    await a.announceNow();
    expect(wire.frames.length).toBe(3);
    await a.stop();
    expect(wire.closed).toBe(2);
    await expect(a.announceNow()).rejects.toThrow(/not started/);
  });

  it("reports refresh failures as error events and keeps refreshing", async () => {
    const clock = new FakeTime();
    const wire = fakeWire(clock);
    const errors: unknown[] = [];
    const a = new Announcer({
      interface: "eth0",
      addresses: ["198.18.0.100"],
      repeat: 1,
      delay: 0,
      refresh: 1000,
      time: clock,
      open: wire.open,
    });
    a.on("error", (e) => errors.push(e));
    await a.start();
    wire.fail(new Error("ENETDOWN"));
    await clock.advance(1000);
    await clock.advance(1000);
    expect(errors.length).toBe(1);
    expect(wire.frames.map((f) => f.at)).toEqual([0, 2000]);
    await a.stop();
  });

  it("rejects start() when the interface cannot be opened, naming it", async () => {
    const a = new Announcer({
      interface: "eth9",
      addresses: ["198.18.0.100"],
      open: async (name) => {
        throw new ArpError("ERR_NO_INTERFACE", `arp: interface "${name}" not found`);
      },
    });
    await expect(a.start()).rejects.toThrow('arp: interface "eth9" not found');
    expect(a.running).toBe(false);
  });
});
