// The shell's wiring of the receive policy and the split-brain answers, on fake time and an in-memory segment:
// a rogue owner, a peer with other VIPs, a flood of lower-priority adverts (rate-limited answers with
// garp_lower_prio_repeat and one delayed burst), and higher_prio_send_advert.
import type { FrameSender, InterfaceInfo } from "@lbkit/arp";
import { FakeTime } from "@lbkit/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeAdvert } from "./codec.js";
import { VrrpInstance } from "./instance.js";
import type { VrrpChange, VrrpInstanceOptions } from "./instance-types.js";
import { MemoryNetwork, type MemoryTransport } from "./transports/memory.js";
import { MemoryVipMover } from "./vip.js";

let time: FakeTime;
let net: MemoryNetwork;
const running: VrrpInstance[] = [];
beforeEach(() => {
  time = new FakeTime();
  net = new MemoryNetwork();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((i) => i.stop()));
});

async function run(ms: number) {
  for (let t = 0; t < ms; t += 5) {
    await time.advance(5);
    await new Promise((r) => setImmediate(r));
  }
}

function node(address: string, o: Partial<VrrpInstanceOptions> = {}) {
  const frames: Uint8Array[] = [];
  const sender: FrameSender = { send: (f) => void frames.push(f), close() {} };
  const info: InterfaceInfo = { name: "lo", ifindex: 1, mac: "02:00:00:00:00:01", up: true, running: true };
  const transport = net.transport(address);
  const inst = new VrrpInstance({
    id: address,
    vrid: 42,
    version: 3,
    advertInterval: 100,
    priority: 100,
    virtualAddresses: ["198.18.0.100/24"],
    vipMover: new MemoryVipMover(),
    transport,
    interface: "lo",
    garp: { delay: 0, open: async () => ({ info, sender }) },
    time,
    ...o,
  });
  running.push(inst);
  const changes: VrrpChange[] = [];
  const discards: { reason: string; src: string }[] = [];
  const errors: Error[] = [];
  inst.on("change", (c) => changes.push(c));
  inst.on("discard", (d) => discards.push(d));
  inst.on("error", (e) => errors.push(e));
  return { inst, transport, frames, changes, discards, errors };
}

/** A rogue speaker on the segment sending crafted adverts. */
function rogue(address: string) {
  const t: MemoryTransport = net.transport(address);
  return (priority: number, addresses = ["198.18.0.100"], n = 1) => {
    const m = encodeAdvert(
      { version: 3, vrid: 42, priority, advertInterval: 100, addresses },
      { src: address, dst: "224.0.0.18" },
    );
    for (let i = 0; i < n; i++) void t.send("224.0.0.18", m);
  };
}

describe("receive policy and split-brain answers (fake time)", () => {
  it("the address owner discards a forged priority-255 advert from a higher address, reports one ERR_CONFLICT, stays master", async () => {
    const o = node("198.18.0.1", { priority: 255 });
    await o.inst.start();
    expect(o.inst.state).toBe("master");
    const send = rogue("198.18.0.250");
    for (let i = 0; i < 20; i++) {
      send(255);
      await run(10);
    }
    expect(o.inst.state).toBe("master");
    expect(o.discards.filter((d) => d.reason === "owner-conflict")).toHaveLength(20);
    expect(o.errors).toHaveLength(1);
    expect(o.errors[0]).toMatchObject({ code: "ERR_CONFLICT" });
    expect(o.errors[0]!.message).toMatch(/198\.18\.0\.250 also advertises priority 255/);
  });

  it("a higher priority listing other VIPs is discarded (addresses) and does not hold a backup back", async () => {
    const b = node("198.18.0.1");
    await b.inst.start();
    const send = rogue("198.18.0.9");
    for (let i = 0; i < 8; i++) {
      send(200, ["198.18.0.101"]);
      await run(100);
    }
    expect(b.discards.length).toBeGreaterThanOrEqual(7);
    expect(b.discards.every((d) => d.reason === "addresses")).toBe(true);
    expect(b.inst.state).toBe("master");
  });

  it("a flood of lower-priority adverts: at most one answer (advert + lowerPrioRepeat GARPs) per interval, one delayed burst, then quiet", async () => {
    const transport = net.transport("198.18.0.1");
    const frames: Uint8Array[] = [];
    const info: InterfaceInfo = { name: "lo", ifindex: 1, mac: "02:00:00:00:00:01", up: true, running: true };
    const lb = new VrrpInstance({
      id: "lb",
      vrid: 42,
      version: 3,
      advertInterval: 100,
      priority: 200,
      virtualAddresses: ["198.18.0.100/24"],
      vipMover: new MemoryVipMover(),
      transport,
      interface: "lo",
      garp: {
        delay: 0,
        lowerPrioRepeat: 2,
        lowerPrioDelay: 1000,
        open: async () => ({ info, sender: { send: (f) => void frames.push(f), close() {} } }),
      },
      time,
    });
    running.push(lb);
    await lb.start();
    await run(400);
    expect(lb.state).toBe("master");
    const sent0 = transport.sent;
    const frames0 = frames.length;
    const send = rogue("198.18.0.66");
    // 10,000 lower-priority adverts per second for one second
    for (let i = 0; i < 200; i++) {
      send(50, undefined, 50);
      await time.advance(5);
      await new Promise((r) => setImmediate(r));
    }
    const adverts = transport.sent - sent0;
    const bursts = (frames.length - frames0) / 2;
    // the regular 10 adverts, and at most one answer per 100 ms (≤ 10 more)
    expect(adverts).toBeGreaterThanOrEqual(10);
    expect(adverts).toBeLessThanOrEqual(21);
    expect(bursts).toBeGreaterThanOrEqual(9);
    expect(bursts).toBeLessThanOrEqual(11);
    expect(lb.state).toBe("master");
    // after the flood: regular adverts only, and the one delayed burst (garp_lower_prio_delay)
    const sent1 = transport.sent;
    const frames1 = frames.length;
    await run(2000);
    expect(transport.sent - sent1).toBeLessThanOrEqual(21);
    expect(frames.length - frames1).toBeLessThanOrEqual(2);
  });

  it("higher_prio_send_advert: stepping down, the master first sends one advert of its own priority; false: none", async () => {
    for (const on of [true, false]) {
      net = new MemoryNetwork();
      const a = node("198.18.0.1", {
        priority: 100,
        higherPrioSendAdvert: on,
        garp: false,
        interface: undefined,
      });
      await a.inst.start();
      await run(400);
      expect(a.inst.state).toBe("master");
      await run(50); // mid-interval: no advert of its own is due
      const before = a.transport.sent;
      rogue("198.18.0.2")(150);
      await run(5);
      expect(a.inst.state).toBe("backup");
      expect(a.transport.sent - before).toBe(on ? 1 : 0);
      await a.inst.stop();
    }
  });
});
