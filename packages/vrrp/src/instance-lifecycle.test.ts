// The lifecycle grammar on a VrrpInstance: caller-owned transports, restarts, failed starts, stop during start,
// unicast peers with a caller transport, runtime errors never dropped. Fake time, in-memory segment, except the
// UDP transport's own tests (loopback sockets, no timing).
import type { FrameSender, InterfaceInfo } from "@lbkit/arp";
import { FakeTime } from "@lbkit/core/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { VrrpConfigError } from "./errors.js";
import { VrrpInstance } from "./instance.js";
import type { VrrpChange, VrrpInstanceOptions } from "./instance-types.js";
import { InterfaceTracker } from "./track-interface.js";
import type { Tracker } from "./tracker.js";
import { MemoryNetwork } from "./transports/memory.js";
import type { Transport } from "./transports/transport.js";
import { UdpTransport } from "./transports/udp.js";
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

function instance(o: Partial<VrrpInstanceOptions> & { transport: Transport }): VrrpInstance {
  const inst = new VrrpInstance({
    id: "lb",
    vrid: 42,
    version: 3,
    advertInterval: 100,
    priority: 100,
    virtualAddresses: ["198.18.0.100/24"],
    vipMover: new MemoryVipMover(),
    garp: false,
    time,
    ...o,
  });
  running.push(inst);
  return inst;
}

async function run(ms: number) {
  for (let t = 0; t < ms; t += 5) {
    await time.advance(5);
    await new Promise((r) => setImmediate(r));
  }
}

const states = (inst: VrrpInstance) => {
  const seen: string[] = [];
  inst.on("change", (c: VrrpChange) => seen.push(`${c.from}>${c.to}`));
  return seen;
};

describe("VrrpInstance lifecycle", () => {
  it("restarts any number of times on the caller's transport: it hears and sends each time; with a priority-250 master it stays backup", async () => {
    const transport = net.transport("198.18.0.1");
    const inst = instance({ transport });
    for (let cycle = 0; cycle < 3; cycle++) {
      await inst.start();
      await run(500); // alone: master after Master_Down_Interval
      expect(inst.state).toBe("master");
      const sent = transport.sent;
      await run(300);
      expect(transport.sent).toBeGreaterThan(sent); // it sends
      await inst.stop();
      expect(inst.state).toBe("initialize");
    }
    // a priority-250 master on the segment: a restarted instance hears it and stays backup
    const peer = instance({ id: "peer", priority: 250, transport: net.transport("198.18.0.2") });
    await peer.start();
    await run(500);
    expect(peer.state).toBe("master");
    const seen = states(inst);
    await inst.start();
    const received = inst.stats.advertsReceived;
    await run(2000);
    expect(inst.stats.advertsReceived - received).toBeGreaterThanOrEqual(18); // one receiver: ~20 adverts in 2 s
    expect(inst.stats.advertsReceived - received).toBeLessThanOrEqual(21);
    expect(inst.state).toBe("backup");
    expect(seen).toEqual(["initialize>backup"]);
  });

  it("a failed start leaves the instance as never started, and a retry works", async () => {
    let fail = true;
    const frames: Uint8Array[] = [];
    const sender: FrameSender = { send: (f) => void frames.push(f), close() {} };
    const info: InterfaceInfo = {
      name: "eth0",
      ifindex: 2,
      mac: "02:00:00:00:00:01",
      up: true,
      running: true,
    };
    const transport = net.transport("198.18.0.1");
    const inst = instance({
      interface: "eth0",
      transport,
      garp: {
        delay: 0,
        open: async () => {
          if (fail) throw new Error('interface "eth0" not found');
          return { info, sender };
        },
      },
    });
    await expect(inst.start()).rejects.toMatchObject({ code: "ERR_ANNOUNCE" });
    expect(inst.state).toBe("initialize");
    await run(1000);
    expect(inst.state).toBe("initialize"); // nothing was left running
    expect(transport.sent).toBe(0);
    expect(time.pending).toBe(0);
    // the retry is not a silent no-op: it fails again while the cause lasts, and works once it is gone
    await expect(inst.start()).rejects.toThrow(/not found/);
    fail = false;
    await inst.start();
    await run(500);
    expect(inst.state).toBe("master");
    expect(frames.length).toBe(5); // garp_master_repeat 5 on becoming master
  });

  it("a failed start on a missing interface rejects every time (ERR_INTERFACE), never resolves into initialize", async () => {
    const inst = new VrrpInstance({
      id: "nope",
      vrid: 42,
      virtualAddresses: ["198.18.0.100/24"],
      interface: "lbkitnope0",
      vipMover: new MemoryVipMover(),
      garp: false,
      time,
    });
    await expect(inst.start()).rejects.toMatchObject({ code: "ERR_INTERFACE" });
    await expect(inst.start()).rejects.toMatchObject({ code: "ERR_INTERFACE" });
    expect(inst.state).toBe("initialize");
    await inst.stop();
  });

  it("stop() while start() is running waits for it and releases everything; start() works again", async () => {
    const transport = net.transport("198.18.0.1");
    const mover = new MemoryVipMover();
    const inst = instance({ transport, vipMover: mover, priority: 255 });
    const started = inst.start();
    const stopped = inst.stop();
    await started;
    await stopped;
    expect(inst.state).toBe("initialize");
    expect([...mover.held]).toEqual([]);
    expect(time.pending).toBe(0);
    await inst.stop(); // idempotent
    await inst.start();
    expect(inst.state).toBe("master"); // the address owner
    expect([...mover.held]).toEqual(["198.18.0.100/24"]);
  });

  it("start() while running is a no-op returning the same promise", async () => {
    const inst = instance({ transport: net.transport("198.18.0.1") });
    const a = inst.start();
    expect(inst.start()).toBe(a);
    await a;
    const seen = states(inst);
    await inst.start();
    expect(seen).toEqual([]);
  });

  it("unicastPeers given only to the instance, with a caller transport that multicasts, fail start loudly", async () => {
    const inst = instance({ transport: net.transport("198.18.0.1"), unicastPeers: ["198.18.0.2"] });
    const err = await inst.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VrrpConfigError);
    expect(err).toMatchObject({ code: "ERR_CONFIG", option: "unicastPeers" });
    expect((err as Error).message).toContain("sourceAddress is keepalived's unicast_src_ip");
    expect(inst.state).toBe("initialize");
  });

  it("a runtime error with no listener is reported as a process warning, never dropped", async () => {
    const failing: Transport = {
      family: 4,
      sourceAddress: "198.18.0.1",
      destinations: ["224.0.0.18"],
      checksTtl: false,
      send: () => Promise.reject(new Error("ENETUNREACH")),
      onMessage: () => () => {},
    };
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      const inst = instance({ transport: failing, priority: 255 });
      await inst.start();
      await run(10);
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining("ENETUNREACH"),
        expect.objectContaining({ type: "VrrpError", code: "ERR_TRANSPORT" }),
      );
      const errors: unknown[] = [];
      inst.on("error", (e) => errors.push(e));
      warn.mockClear();
      await run(200);
      expect(errors.length).toBeGreaterThan(0);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

describe("gratuitous ARP through @lbkit/arp's Announcer", () => {
  it("keepalived's schedule on becoming master (repeat, delay, refresh), cancelled on leaving; one link for the instance's life", async () => {
    const frames: number[] = [];
    let opened = 0;
    let closed = 0;
    const info: InterfaceInfo = {
      name: "eth0",
      ifindex: 2,
      mac: "02:00:00:00:00:01",
      up: true,
      running: true,
    };
    const garp = {
      repeat: 2,
      delay: 1000,
      refresh: 2000,
      refreshRepeat: 1,
      open: async () => {
        opened++;
        return { info, sender: { send: () => void frames.push(time.now()), close: () => void closed++ } };
      },
    };
    const inst = instance({ interface: "eth0", transport: net.transport("198.18.0.1"), priority: 255, garp });
    await inst.start();
    await run(10);
    expect(frames).toEqual([0, 0]); // the owner is master at once: garp_master_repeat 2
    await run(1000);
    expect(frames).toEqual([0, 0, 1000, 1000]); // garp_master_delay
    await run(3000);
    expect(frames).toEqual([0, 0, 1000, 1000, 2000, 4000]); // garp_master_refresh, refresh_repeat 1
    inst.setFault("test", true); // leaves master: no more announcements
    await run(5000);
    expect(frames.length).toBe(6);
    expect([opened, closed]).toEqual([1, 0]);
    await inst.stop();
    expect([opened, closed]).toEqual([1, 1]);
  });
});

describe("InterfaceTracker", () => {
  it("reads the link at start, polls it on the injected time, stops and starts again; a missing one rejects each time", async () => {
    const t = new InterfaceTracker({ interface: "lo", interval: 50, time });
    const tracker: Tracker = t; // fits an instance's `tracks`
    expect(tracker.fault).toBe(false);
    await t.start();
    expect([t.up, t.fault, t.delta]).toEqual([true, false, 0]);
    expect(time.pending).toBe(1);
    await t.stop();
    expect(time.pending).toBe(0);
    await t.start();
    await t.stop();
    const nope = new InterfaceTracker({ interface: "lbkitnope0", time });
    await expect(nope.start()).rejects.toMatchObject({ code: "ERR_INTERFACE" });
    await expect(nope.start()).rejects.toMatchObject({ code: "ERR_INTERFACE" });
    expect(() => new InterfaceTracker({ interface: "eth1", interval: 0 })).toThrow(
      "vrrp: interval 0 must be milliseconds >= 10",
    );
  });
});

describe("GARP options", () => {
  it("are checked at construction (keepalived's garp_master_repeat 0 is not a burst)", () => {
    expect(
      () =>
        new VrrpInstance({
          vrid: 1,
          virtualAddresses: ["198.18.0.1"],
          interface: "eth0",
          garp: { repeat: 0 },
        }),
    ).toThrow(new VrrpConfigError("garp.repeat", 0, "must be an integer 1..1000"));
  });
});

describe("UdpTransport", () => {
  const port = 21000 + (process.pid % 20000);

  it("stops twice without throwing, starts again, and rejects sends while stopped with ERR_TRANSPORT_CLOSED", async () => {
    const t = new UdpTransport({ address: "127.0.0.1", peers: ["127.0.0.2"], port });
    await t.start();
    await t.stop();
    await t.stop();
    await expect(t.send("127.0.0.2", new Uint8Array(8))).rejects.toMatchObject({
      code: "ERR_TRANSPORT_CLOSED",
    });
    await t.start();
    await t.send("127.0.0.2", new Uint8Array(8));
    await t.stop();
  });

  it("an instance stopped and started again on a caller's UDP transport still sends and never stops it", async () => {
    const t = new UdpTransport({ address: "127.0.0.1", peers: ["127.0.0.2"], port: port + 1 });
    await t.start();
    const errors: unknown[] = [];
    const inst = instance({ transport: t, priority: 255 });
    inst.on("error", (e) => errors.push(e));
    await inst.start();
    await inst.stop();
    await inst.start();
    await run(300);
    expect(inst.state).toBe("master");
    expect(inst.stats.advertsSent).toBeGreaterThan(2);
    expect(errors).toEqual([]);
    await inst.stop();
    await t.send("127.0.0.2", new Uint8Array(8)); // still open: the caller's
    await t.stop();
  });
});
