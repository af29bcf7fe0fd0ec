import { EventEmitter } from "node:events";
import { FakeTime } from "@lbkit/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VrrpConfigError } from "./errors.js";
import { VrrpInstance } from "./instance.js";
import type { VrrpChange, VrrpInstanceOptions } from "./instance-types.js";
import type { VrrpState } from "./machine.js";
import { SyncGroup } from "./sync-group.js";
import type { Tracker } from "./tracker.js";
import { MemoryNetwork, type MemoryTransport } from "./transports/memory.js";
import { MemoryVipMover } from "./vip.js";

// Fake time and an in-memory segment: no sockets, no sleeps. 100 ms adverts (VRRPv3).
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

class FakeTracker extends EventEmitter implements Tracker {
  delta = 0;
  fault = false;
  set(p: { delta?: number; fault?: boolean }) {
    Object.assign(this, p);
    this.emit("change");
  }
}

interface Node {
  inst: VrrpInstance;
  mover: MemoryVipMover;
  transport: MemoryTransport;
}

function node(
  id: string,
  address: string,
  priority: number,
  extra: Partial<VrrpInstanceOptions> & { network?: MemoryNetwork; transport?: MemoryTransport } = {},
): Node {
  const mover = new MemoryVipMover();
  const transport = extra.transport ?? (extra.network ?? net).transport(address);
  const inst = new VrrpInstance({
    id,
    vrid: 42,
    version: 3,
    advertInterval: 100,
    priority,
    virtualAddresses: ["198.18.0.100/24"],
    vipMover: mover,
    garp: false,
    time,
    ...extra,
    transport,
  });
  running.push(inst);
  return { inst, mover, transport };
}

function pair(prios: [number, number], extra: { tracks?: Tracker[][]; vrid?: number } = {}): [Node, Node] {
  const network = new MemoryNetwork();
  return [0, 1].map((i) =>
    node(`n${i}`, `127.0.0.1${i + 1}`, prios[i]!, {
      network,
      vrid: extra.vrid ?? 42,
      tracks: extra.tracks?.[i],
    }),
  ) as [Node, Node];
}

/** Advances fake time 1 ms at a time (letting real I/O run too) until `p` settles; fails after `ms`. */
async function within<T>(p: Promise<T>, ms = 3000): Promise<T> {
  let settled = false;
  const out = p.finally(() => {
    settled = true;
  });
  out.catch(() => undefined);
  for (let t = 0; t < ms && !settled; t++) {
    await time.advance(1);
    await new Promise((r) => setImmediate(r));
  }
  if (!settled) throw new Error(`not settled within ${ms} ms of fake time`);
  return out;
}

/** The next `change` of `inst` into `to`. */
const changeTo = (inst: VrrpInstance, to: VrrpState) =>
  new Promise<VrrpChange>((resolve) => {
    const on = (c: VrrpChange) => {
      if (c.to !== to) return;
      inst.off("change", on);
      resolve(c);
    };
    inst.on("change", on);
  });

const run = async (ms: number) => {
  for (let t = 0; t < ms; t += 10) await time.advance(10);
};

describe("VrrpInstance on fake time and an in-memory segment", () => {
  it("fails at construction on bad config", () => {
    expect(
      () => new VrrpInstance({ vrid: 1, priority: 300, virtualAddresses: ["198.18.0.1"], interface: "eth0" }),
    ).toThrow(
      new VrrpConfigError(
        "priority",
        300,
        "must be an integer 1..254 (255 is reserved for the address owner)",
      ),
    );
    expect(() => new VrrpInstance({ vrid: 1, virtualAddresses: ["198.18.0.1"] })).toThrow(
      /interface undefined is required/,
    );
    expect(
      () =>
        new VrrpInstance({
          vrid: 1,
          version: 3,
          virtualAddresses: ["2001:db8::1"],
          interface: "eth0",
          vmac: true,
        }),
    ).toThrow("vrrp: vmac true needs `interface` and IPv4 virtual addresses");
    // a keepalived user's advert_int 1
    expect(
      () =>
        new VrrpInstance({ vrid: 1, virtualAddresses: ["198.18.0.1"], interface: "eth0", advertInterval: 1 }),
    ).toThrow("keepalived's advert_int 1 is 1000");
  });

  it("elects the higher priority; the VIP moves on stop within Skew_Time; it fails back on restart", async () => {
    const [a, b] = pair([150, 100]);
    const aMaster = changeTo(a.inst, "master");
    await Promise.all([a.inst.start(), b.inst.start()]);
    await within(aMaster);
    await run(300);
    expect(a.inst.state).toBe("master");
    expect(b.inst.state).toBe("backup");
    expect(b.inst.master).toBe("127.0.0.11");
    expect([...a.mover.held]).toEqual(["198.18.0.100/24"]);
    expect([...b.mover.held]).toEqual([]);

    const bMaster = changeTo(b.inst, "master");
    const t0 = time.now();
    await a.inst.stop();
    expect([...a.mover.held]).toEqual([]);
    expect((await within(bMaster)).reason).toBe("peer-resigned");
    // priority 0 → the backup waits Skew_Time ((256-100)/256 × 100 ms ≈ 61 ms), not Master_Down_Interval
    expect(time.now() - t0).toBeLessThan(300);
    expect(time.now() - t0).toBeGreaterThanOrEqual(60);
    expect([...b.mover.held]).toEqual(["198.18.0.100/24"]);

    // the same instance, on the same (caller's) transport, comes back with the higher priority
    const back = changeTo(b.inst, "backup");
    await a.inst.start();
    expect((await within(back)).reason).toBe("higher-priority");
    expect(a.inst.state).toBe("master");
  });

  it("lastAdvert tells a preempted, live previous master from a crashed one", async () => {
    const [a, b] = pair([150, 100]);
    expect(b.inst.lastAdvert).toBeUndefined();
    // b alone becomes master; a starts and preempts it: when a becomes master it heard b within an interval
    const bMaster = changeTo(b.inst, "master");
    await b.inst.start();
    await within(bMaster);
    const aMaster = changeTo(a.inst, "master");
    await a.inst.start();
    await within(aMaster);
    const heard = a.inst.lastAdvert;
    expect(heard?.from).toBe("127.0.0.12");
    expect(heard?.priority).toBe(100);
    expect(heard?.ago).toBeLessThanOrEqual(100);
    await run(300);
    expect(b.inst.lastAdvert?.from).toBe("127.0.0.11");
    // a crashes (cut off, no priority-0 advert): b takes over only after hearing nothing for Master_Down_Interval
    const bAgain = changeTo(b.inst, "master");
    a.inst.on("error", () => {}); // its sends fail while cut off
    a.transport.connected = false;
    expect((await within(bAgain)).reason).toBe("master-down-timer");
    expect(b.inst.lastAdvert?.ago).toBeGreaterThanOrEqual(b.inst.masterDownInterval);
  });

  it("a tracked delta below the peer's priority moves the VIP (preempt); recovery moves it back", async () => {
    const track = new FakeTracker();
    const [a, b] = pair([150, 100], { tracks: [[track], []] });
    const aMaster = changeTo(a.inst, "master");
    await Promise.all([a.inst.start(), b.inst.start()]);
    await within(aMaster);
    const bMaster = changeTo(b.inst, "master");
    const aBackup = changeTo(a.inst, "backup");
    track.set({ delta: -60 });
    expect(a.inst.priority).toBe(90);
    await within(bMaster);
    expect((await within(aBackup)).reason).toBe("higher-priority");
    const aBack = changeTo(a.inst, "master");
    const bBack = changeTo(b.inst, "backup");
    track.set({ delta: 0 });
    await within(aBack, 5000);
    await within(bBack, 5000);
  });

  it("a tracked fault puts the node in FAULT and releases the VIP", async () => {
    const track = new FakeTracker();
    const [a, b] = pair([150, 100], { tracks: [[track], []] });
    const aMaster = changeTo(a.inst, "master");
    await Promise.all([a.inst.start(), b.inst.start()]);
    await within(aMaster);
    const fault = changeTo(a.inst, "fault");
    const bMaster = changeTo(b.inst, "master");
    track.set({ fault: true });
    await within(fault);
    await within(bMaster);
    expect([...a.mover.held]).toEqual([]);
    expect(a.inst.state).toBe("fault");
  });

  it("handover() resolves once the peer is master, so the caller can drain", async () => {
    const [a, b] = pair([150, 100]);
    const aMaster = changeTo(a.inst, "master");
    await Promise.all([a.inst.start(), b.inst.start()]);
    await within(aMaster);
    const r = await within(a.inst.handover());
    expect(r.master).toBe("127.0.0.12");
    expect(b.inst.state).toBe("master");
    expect(a.inst.state).toBe("backup");
    expect([...a.mover.held]).toEqual([]);
    // resume: the better priority preempts back
    const back = changeTo(a.inst, "master");
    a.inst.resume();
    await within(back, 5000);
  });

  it("handover() with no peer rejects after its timeout and resumes", async () => {
    const a = node("alone", "127.0.0.11", 150);
    await a.inst.start();
    await within(changeTo(a.inst, "master"));
    const r = a.inst.handover({ timeout: 500 });
    await expect(within(r, 2000)).rejects.toMatchObject({ code: "ERR_HANDOVER_TIMEOUT" });
    expect(a.inst.priority).toBe(150);
    await expect(
      new VrrpInstance({ vrid: 1, virtualAddresses: ["198.18.0.1"], interface: "eth0" }).handover(),
    ).rejects.toThrow(/is not running/);
  });

  it("a sync group puts every member in fault when one faults", async () => {
    const track = new FakeTracker();
    const [a1, b1] = pair([150, 100], { tracks: [[track], []], vrid: 1 });
    const a2 = node("a2", "127.0.0.21", 150, {
      vrid: 2,
      virtualAddresses: ["198.18.0.101/24"],
      network: new MemoryNetwork(),
    });
    const group = new SyncGroup({ id: "front-back", members: [a1.inst, a2.inst] });
    await group.start();
    await Promise.all([a1.inst.start(), b1.inst.start(), a2.inst.start()]);
    await run(600);
    expect(a2.inst.state).toBe("master");
    const f = changeTo(a2.inst, "fault");
    track.set({ fault: true });
    await within(f);
    expect([...a2.mover.held]).toEqual([]);
    const m = changeTo(a2.inst, "master");
    track.set({ fault: false });
    await within(m);
    await group.stop();
  });

  it("a failing witness keeps an isolated node from claiming the VIP (FAULT until it passes)", async () => {
    let reachable = false;
    const { inst, mover } = node("isolated", "127.0.0.31", 100, {
      vrid: 9,
      witness: { check: async () => reachable, interval: 50 },
    });
    const fault = changeTo(inst, "fault");
    await inst.start();
    expect((await within(fault)).reason).toBe("fault");
    await run(600); // longer than Master_Down_Interval: still no VIP
    expect(inst.state).toBe("fault");
    expect([...mover.held]).toEqual([]);
    expect(inst.faultSources()).toEqual(["witness"]);
    const m = changeTo(inst, "master");
    reachable = true;
    await within(m);
    expect([...mover.held]).toEqual(["198.18.0.100/24"]);
  });

  /** two nodes a and b, each with instances for VRIDs 1 and 2 (one segment per VRID) */
  function groups(
    prio: { a: number; b: number },
    base: number,
    tracks: { a1?: Tracker[]; a2?: Tracker[]; b1?: Tracker[]; b2?: Tracker[] } = {},
  ) {
    const segs = [new MemoryNetwork(), new MemoryNetwork()];
    const make = (n: "a" | "b", vrid: 1 | 2) =>
      node(`${n}${vrid}`, n === "a" ? "127.0.0.61" : "127.0.0.62", prio[n], {
        vrid,
        virtualAddresses: [`198.18.0.${base + vrid}/24`],
        network: segs[vrid - 1],
        tracks: tracks[`${n}${vrid}`],
      });
    const [a1, a2, b1, b2] = [make("a", 1), make("a", 2), make("b", 1), make("b", 2)];
    const ga = new SyncGroup({ id: "a", members: [a1.inst, a2.inst] });
    const gb = new SyncGroup({ id: "b", members: [b1.inst, b2.inst] });
    return { a1, a2, b1, b2, ga, gb };
  }

  it("sync groups move together: a group-wide priority change takes both VIPs; a lone member's does not", async () => {
    const front = new FakeTracker();
    const back = new FakeTracker();
    const g = groups({ a: 150, b: 100 }, 100, { b1: [front, back], b2: [back] });
    const [a1, a2, b1, b2] = [g.a1.inst, g.a2.inst, g.b1.inst, g.b2.inst];
    await Promise.all([g.ga.start(), g.gb.start()]);
    await Promise.all([a1, a2, b1, b2].map((i) => i.start()));
    await run(800);
    expect([a1.state, a2.state, b1.state, b2.state]).toEqual(["master", "master", "backup", "backup"]);

    // only b1 outranks a1: b1 is ready but held (b2 still hears a better a2), so nothing moves
    front.set({ delta: 100 });
    await run(800);
    expect(b1.ready).toBe(true);
    expect([a1.state, a2.state, b1.state, b2.state]).toEqual(["master", "master", "backup", "backup"]);

    // a group-wide tracker outranks both: b takes both VIPs together
    const both = Promise.all([
      changeTo(b1, "master"),
      changeTo(b2, "master"),
      changeTo(a1, "backup"),
      changeTo(a2, "backup"),
    ]);
    front.set({ delta: 0 });
    back.set({ delta: 100 });
    await within(both);
    expect([a1.state, a2.state, b1.state, b2.state]).toEqual(["backup", "backup", "master", "master"]);
    await Promise.all([g.ga.stop(), g.gb.stop()]);
  });

  it("handover() of one sync group member hands over the whole group within Skew_Time (every member resigns with priority 0)", async () => {
    const g = groups({ a: 150, b: 100 }, 120);
    const [a1, a2, b1, b2] = [g.a1.inst, g.a2.inst, g.b1.inst, g.b2.inst];
    await Promise.all([g.ga.start(), g.gb.start()]);
    const elected = Promise.all([changeTo(a1, "master"), changeTo(a2, "master")]);
    await Promise.all([a1, a2, b1, b2].map((i) => i.start()));
    await within(elected);
    await run(300);

    const t = time.now();
    const took = Promise.all([changeTo(b1, "master"), changeTo(b2, "master")]).then(() => time.now() - t);
    const done = await within(a1.handover());
    // Skew_Time at priority 100 is 61 ms; a follower that left master silently would make b wait for its
    // Master_Down_Interval (361 ms) with neither VIP held anywhere meanwhile
    expect(await within(took)).toBeLessThan(250);
    expect(done.master).toBe("127.0.0.62");
    expect([a1.state, a2.state, b1.state, b2.state]).toEqual(["backup", "backup", "master", "master"]);
    expect(a2.priority).toBe(150); // the follower resigned but keeps its priority

    // resume(): a1 is back at 150 and preempts; the group follows
    const back = Promise.all([
      changeTo(a1, "master"),
      changeTo(a2, "master"),
      changeTo(b1, "backup"),
      changeTo(b2, "backup"),
    ]);
    a1.resume();
    await within(back);
    await Promise.all([g.ga.stop(), g.gb.stop()]);
  });

  it("stop() of one sync group member as master hands the whole group over (no VIP left unowned)", async () => {
    const g = groups({ a: 150, b: 100 }, 130);
    const [a1, a2, b1, b2] = [g.a1, g.a2, g.b1, g.b2];
    await Promise.all([g.ga.start(), g.gb.start()]);
    const elected = Promise.all([changeTo(a1.inst, "master"), changeTo(a2.inst, "master")]);
    await Promise.all([a1, a2, b1, b2].map((n) => n.inst.start()));
    await within(elected);

    // only a1 stops (say, to be reconfigured): b1 alone cannot take over (held), so a2 must resign too
    const t = time.now();
    const took = Promise.all([changeTo(b1.inst, "master"), changeTo(b2.inst, "master")]).then(
      () => time.now() - t,
    );
    const follower = changeTo(a2.inst, "backup");
    await a1.inst.stop();
    expect((await within(follower)).reason).toBe("sync-group");
    expect(await within(took)).toBeLessThan(250); // Skew_Time: a2 resigned with priority 0
    expect([...a1.mover.held, ...a2.mover.held]).toEqual([]);
    expect([...b1.mover.held, ...b2.mover.held]).toEqual(["198.18.0.131/24", "198.18.0.132/24"]);
    // a2 keeps its priority but cannot take the group back while a1 is stopped
    await run(600);
    expect([a2.inst.state, b1.inst.state, b2.inst.state]).toEqual(["backup", "master", "master"]);
    expect(a2.inst.priority).toBe(150);
    await Promise.all([g.ga.stop(), g.gb.stop()]);
  });

  it("a sync group stays in fault while any member has a fault of its own, also one that began during a group fault", async () => {
    const front = new FakeTracker();
    const back = new FakeTracker();
    const make = (vrid: number, tracks: Tracker[]) =>
      node(`m${vrid}`, "127.0.0.51", 150, {
        vrid,
        virtualAddresses: [`198.18.0.${110 + vrid}/24`],
        network: new MemoryNetwork(),
        tracks,
      }).inst;
    const f = make(1, [front]);
    const b = make(2, [back]);
    const g = new SyncGroup({ id: "fb", members: [f, b] });
    await g.start();
    const masters = Promise.all([changeTo(f, "master"), changeTo(b, "master")]);
    await Promise.all([f.start(), b.start()]);
    await within(masters);

    const faults = Promise.all([changeTo(f, "fault"), changeTo(b, "fault")]);
    back.set({ fault: true });
    await within(faults);
    expect(f.faultSources()).toEqual(["sync-group:fb"]);
    // the front's own check fails while the group already holds it in fault: no transition, no event
    front.set({ fault: true });
    // the back recovers, but the front still has a fault of its own: the back must go (back) to fault
    const backAgain = changeTo(b, "fault");
    back.set({ fault: false });
    expect((await within(backAgain)).from).toBe("backup");
    expect([f.state, b.state]).toEqual(["fault", "fault"]);
    expect(b.faultSources()).toEqual(["sync-group:fb"]);

    // the front recovers: no member has a fault left, both take over together
    const back2 = Promise.all([changeTo(f, "master"), changeTo(b, "master")]);
    front.set({ fault: false });
    await within(back2);
    expect(f.faultSources()).toEqual([]);
    expect(b.faultSources()).toEqual([]);
    await g.stop();
  });
});
