import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { VrrpConfigError } from "./errors.js";
import { createInstance, type Tracker, type VrrpInstance } from "./instance.js";
import { createSyncGroup } from "./sync-group.js";
import { createUdpTransport } from "./transports/udp.js";
import { createMemoryVipMover } from "./vip.js";

// Real sockets on loopback (the UDP transport), real timers, 100 ms adverts (VRRPv3).
const running: VrrpInstance[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((i) => i.stop()));
});

let portSeq = 20000 + (process.pid % 20000);

class FakeTracker extends EventEmitter implements Tracker {
  delta = 0;
  fault = false;
  set(p: { delta?: number; fault?: boolean }) {
    Object.assign(this, p);
    this.emit("change");
  }
}

async function pair(
  prios: [number, number],
  extra: { tracks?: Tracker[][]; vrid?: number; port?: number } = {},
) {
  const port = extra.port ?? portSeq++;
  const addrs = ["127.0.0.11", "127.0.0.12"];
  const nodes = await Promise.all(
    prios.map(async (priority, i) => {
      const mover = createMemoryVipMover();
      const inst = createInstance({
        name: `n${i}`,
        vrid: extra.vrid ?? 42,
        version: 3,
        advertInterval: 100,
        priority,
        virtualAddresses: ["198.18.0.100/24"],
        transport: await createUdpTransport({ address: addrs[i]!, peers: addrs, port }),
        vipMover: mover,
        announcer: { announce: async () => {} },
        tracks: extra.tracks?.[i],
      });
      running.push(inst);
      return { inst, mover, port };
    }),
  );
  return nodes;
}

const once = <T>(inst: VrrpInstance, event: "master" | "backup" | "fault", ms = 3000) =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${inst.name}: no ${event} within ${ms} ms`)), ms);
    inst.once(event, (i) => {
      clearTimeout(t);
      resolve(i as T);
    });
  });

describe("VrrpInstance over the UDP loopback transport", () => {
  it("fails at construction on bad config", () => {
    expect(() =>
      createInstance({ vrid: 1, priority: 300, virtualAddresses: ["198.18.0.1"], interface: "eth0" }),
    ).toThrow(
      new VrrpConfigError(
        "vrrp: priority 300 out of range 1..254 (255 is reserved for the address owner)",
        "priority",
      ),
    );
    expect(() => createInstance({ vrid: 1, virtualAddresses: ["198.18.0.1"] })).toThrow(
      /interface is required/,
    );
    expect(() =>
      createInstance({
        vrid: 1,
        version: 3,
        virtualAddresses: ["2001:db8::1"],
        interface: "eth0",
        vmac: true,
      }),
    ).toThrow("vrrp: vmac needs `interface` and IPv4 virtual addresses");
  });

  it("elects the higher priority; the VIP moves on stop within Skew_Time; it fails back on restart", async () => {
    const [a, b] = await pair([150, 100]);
    const aMaster = once(a!.inst, "master");
    await Promise.all([a!.inst.start(), b!.inst.start()]);
    await aMaster;
    await new Promise((r) => setTimeout(r, 300));
    expect(a!.inst.state).toBe("master");
    expect(b!.inst.state).toBe("backup");
    expect(b!.inst.master).toBe("127.0.0.11");
    expect([...a!.mover.held]).toEqual(["198.18.0.100/24"]);
    expect([...b!.mover.held]).toEqual([]);

    const bMaster = once<{ reason: string }>(b!.inst, "master");
    const t0 = performance.now();
    await a!.inst.stop();
    expect([...a!.mover.held]).toEqual([]);
    expect((await bMaster).reason).toBe("peer-resigned");
    // priority 0 → the backup waits Skew_Time ((256-100)/256 × 100 ms ≈ 61 ms), not Master_Down_Interval
    expect(performance.now() - t0).toBeLessThan(300);
    expect([...b!.mover.held]).toEqual(["198.18.0.100/24"]);

    // a fresh node with the higher priority comes back (a stopped instance's injected transport is closed)
    const back = once<{ reason: string }>(b!.inst, "backup");
    const again = createInstance({
      name: "n0-again",
      vrid: 42,
      version: 3,
      advertInterval: 100,
      priority: 150,
      virtualAddresses: ["198.18.0.100/24"],
      transport: await createUdpTransport({ address: "127.0.0.11", peers: ["127.0.0.12"], port: b!.port }),
      vipMover: a!.mover,
      announcer: { announce: async () => {} },
    });
    running.push(again);
    await again.start();
    expect((await back).reason).toBe("higher-priority");
    expect(again.state).toBe("master");
  });

  it("a tracked delta below the peer's priority moves the VIP (preempt); recovery moves it back", async () => {
    const track = new FakeTracker();
    const [a, b] = await pair([150, 100], { tracks: [[track], []] });
    const aMaster = once(a!.inst, "master");
    await Promise.all([a!.inst.start(), b!.inst.start()]);
    await aMaster;
    const bMaster = once(b!.inst, "master");
    const aBackup = once<{ reason: string }>(a!.inst, "backup");
    track.set({ delta: -60 });
    expect(a!.inst.priority).toBe(90);
    await bMaster;
    expect((await aBackup).reason).toBe("higher-priority");
    const aBack = once(a!.inst, "master", 5000);
    const bBack = once(b!.inst, "backup", 5000);
    track.set({ delta: 0 });
    await aBack;
    await bBack;
  });

  it("a tracked fault puts the node in FAULT and releases the VIP", async () => {
    const track = new FakeTracker();
    const [a, b] = await pair([150, 100], { tracks: [[track], []] });
    const aMaster = once(a!.inst, "master");
    await Promise.all([a!.inst.start(), b!.inst.start()]);
    await aMaster;
    const fault = once(a!.inst, "fault");
    const bMaster = once(b!.inst, "master");
    track.set({ fault: true });
    await fault;
    await bMaster;
    expect([...a!.mover.held]).toEqual([]);
    expect(a!.inst.state).toBe("fault");
  });

  it("handover() resolves once the peer is master, so the caller can drain", async () => {
    const [a, b] = await pair([150, 100]);
    const aMaster = once(a!.inst, "master");
    await Promise.all([a!.inst.start(), b!.inst.start()]);
    await aMaster;
    const r = await a!.inst.handover();
    expect(r.master).toBe("127.0.0.12");
    expect(b!.inst.state).toBe("master");
    expect(a!.inst.state).toBe("backup");
    expect([...a!.mover.held]).toEqual([]);
    // resume: the better priority preempts back
    const back = once(a!.inst, "master", 5000);
    a!.inst.resume();
    await back;
  });

  it("a sync group puts every member in fault when one faults", async () => {
    const track = new FakeTracker();
    const port = portSeq++;
    const [a1, b1] = await pair([150, 100], { tracks: [[track], []], vrid: 1, port });
    const mover = createMemoryVipMover();
    const a2 = createInstance({
      name: "a2",
      vrid: 2,
      version: 3,
      advertInterval: 100,
      priority: 150,
      virtualAddresses: ["198.18.0.101/24"],
      transport: await createUdpTransport({ address: "127.0.0.21", peers: ["127.0.0.22"], port: portSeq++ }),
      vipMover: mover,
      announcer: { announce: async () => {} },
    });
    running.push(a2);
    const group = createSyncGroup("front-back", [a1!.inst, a2]);
    await Promise.all([a1!.inst.start(), b1!.inst.start(), a2.start()]);
    await new Promise((r) => setTimeout(r, 600));
    expect(a2.state).toBe("master");
    const f = once(a2, "fault");
    track.set({ fault: true });
    await f;
    expect([...mover.held]).toEqual([]);
    const m = once(a2, "master", 3000);
    track.set({ fault: false });
    await m;
    group.close();
  });

  it("a failing witness keeps an isolated node from claiming the VIP (FAULT until it passes)", async () => {
    let reachable = false;
    const mover = createMemoryVipMover();
    const inst = createInstance({
      name: "isolated",
      vrid: 9,
      version: 3,
      advertInterval: 100,
      virtualAddresses: ["198.18.0.100/24"],
      transport: await createUdpTransport({ address: "127.0.0.31", peers: ["127.0.0.32"], port: portSeq++ }),
      vipMover: mover,
      announcer: { announce: async () => {} },
      witness: { check: async () => reachable, interval: 50 },
    });
    running.push(inst);
    const fault = once<{ reason: string }>(inst, "fault");
    await inst.start();
    expect((await fault).reason).toBe("fault");
    await new Promise((r) => setTimeout(r, 600)); // longer than Master_Down_Interval: still no VIP
    expect(inst.state).toBe("fault");
    expect([...mover.held]).toEqual([]);
    expect(inst.faultSources()).toEqual(["witness"]);
    const m = once(inst, "master", 3000);
    reachable = true;
    await m;
    expect([...mover.held]).toEqual(["198.18.0.100/24"]);
  });

  it("sync groups move together: a group-wide priority change takes both VIPs; a lone member's does not", async () => {
    const ports = [portSeq++, portSeq++];
    const front = new FakeTracker();
    const back = new FakeTracker();
    const make = async (node: "a" | "b", vrid: number, priority: number, tracks: Tracker[]) => {
      const inst = createInstance({
        name: `${node}${vrid}`,
        vrid,
        version: 3,
        advertInterval: 100,
        priority,
        virtualAddresses: [`198.18.0.${100 + vrid}/24`],
        transport: await createUdpTransport({
          address: node === "a" ? "127.0.0.41" : "127.0.0.42",
          peers: ["127.0.0.41", "127.0.0.42"],
          port: ports[vrid - 1]!,
        }),
        vipMover: createMemoryVipMover(),
        announcer: { announce: async () => {} },
        tracks,
      });
      running.push(inst);
      return inst;
    };
    const a1 = await make("a", 1, 150, []);
    const a2 = await make("a", 2, 150, []);
    const b1 = await make("b", 1, 100, [front, back]);
    const b2 = await make("b", 2, 100, [back]);
    const ga = createSyncGroup("a", [a1, a2]);
    const gb = createSyncGroup("b", [b1, b2]);
    await Promise.all([a1, a2, b1, b2].map((i) => i.start()));
    await new Promise((r) => setTimeout(r, 800));
    expect([a1.state, a2.state, b1.state, b2.state]).toEqual(["master", "master", "backup", "backup"]);

    // only b1 outranks a1: b1 is ready but held (b2 still hears a better a2), so nothing moves
    front.set({ delta: 100 });
    await new Promise((r) => setTimeout(r, 800));
    expect(b1.ready).toBe(true);
    expect([a1.state, a2.state, b1.state, b2.state]).toEqual(["master", "master", "backup", "backup"]);

    // a group-wide tracker outranks both: b takes both VIPs together
    const both = Promise.all([
      once(b1, "master"),
      once(b2, "master"),
      once(a1, "backup"),
      once(a2, "backup"),
    ]);
    front.set({ delta: 0 });
    back.set({ delta: 100 });
    await both;
    expect([a1.state, a2.state, b1.state, b2.state]).toEqual(["backup", "backup", "master", "master"]);
    ga.close();
    gb.close();
  });

  it("handover() of one sync group member hands over the whole group within Skew_Time (every member resigns with priority 0)", async () => {
    const ports = [portSeq++, portSeq++];
    const make = async (node: "a" | "b", vrid: number, priority: number) => {
      const inst = createInstance({
        name: `${node}${vrid}`,
        vrid,
        version: 3,
        advertInterval: 100,
        priority,
        virtualAddresses: [`198.18.0.${120 + vrid}/24`],
        transport: await createUdpTransport({
          address: node === "a" ? "127.0.0.61" : "127.0.0.62",
          peers: ["127.0.0.61", "127.0.0.62"],
          port: ports[vrid - 1]!,
        }),
        vipMover: createMemoryVipMover(),
        announcer: { announce: async () => {} },
      });
      running.push(inst);
      return inst;
    };
    const a1 = await make("a", 1, 150);
    const a2 = await make("a", 2, 150);
    const b1 = await make("b", 1, 100);
    const b2 = await make("b", 2, 100);
    const ga = createSyncGroup("a", [a1, a2]);
    const gb = createSyncGroup("b", [b1, b2]);
    const elected = Promise.all([once(a1, "master"), once(a2, "master")]);
    await Promise.all([a1, a2, b1, b2].map((i) => i.start()));
    await elected;
    await new Promise((r) => setTimeout(r, 300));

    const t = performance.now();
    const took = Promise.all([once(b1, "master"), once(b2, "master")]).then(() => performance.now() - t);
    const done = await a1.handover();
    // Skew_Time at priority 100 is 61 ms; a follower that left master silently would make b wait for its
    // Master_Down_Interval (361 ms) with neither VIP held anywhere meanwhile
    expect(await took).toBeLessThan(250);
    expect(done.master).toBe("127.0.0.62");
    expect([a1.state, a2.state, b1.state, b2.state]).toEqual(["backup", "backup", "master", "master"]);
    expect(a2.priority).toBe(150); // the follower resigned but keeps its priority

    // resume(): a1 is back at 150 and preempts; the group follows
    const back = Promise.all([
      once(a1, "master"),
      once(a2, "master"),
      once(b1, "backup"),
      once(b2, "backup"),
    ]);
    a1.resume();
    await back;
    ga.close();
    gb.close();
  });

  it("stop() of one sync group member as master hands the whole group over (no VIP left unowned)", async () => {
    const ports = [portSeq++, portSeq++];
    const make = async (node: "a" | "b", vrid: number, priority: number) => {
      const mover = createMemoryVipMover();
      const inst = createInstance({
        name: `${node}${vrid}`,
        vrid,
        version: 3,
        advertInterval: 100,
        priority,
        virtualAddresses: [`198.18.0.${130 + vrid}/24`],
        transport: await createUdpTransport({
          address: node === "a" ? "127.0.0.71" : "127.0.0.72",
          peers: ["127.0.0.71", "127.0.0.72"],
          port: ports[vrid - 1]!,
        }),
        vipMover: mover,
        announcer: { announce: async () => {} },
      });
      running.push(inst);
      return { inst, mover };
    };
    const a1 = await make("a", 1, 150);
    const a2 = await make("a", 2, 150);
    const b1 = await make("b", 1, 100);
    const b2 = await make("b", 2, 100);
    const ga = createSyncGroup("a", [a1.inst, a2.inst]);
    const gb = createSyncGroup("b", [b1.inst, b2.inst]);
    const elected = Promise.all([once(a1.inst, "master"), once(a2.inst, "master")]);
    await Promise.all([a1, a2, b1, b2].map((n) => n.inst.start()));
    await elected;

    // only a1 stops (say, to be reconfigured): b1 alone cannot take over (held), so a2 must resign too
    const t = performance.now();
    const took = Promise.all([once(b1.inst, "master"), once(b2.inst, "master")]).then(
      () => performance.now() - t,
    );
    const follower = once<{ reason: string }>(a2.inst, "backup");
    await a1.inst.stop();
    expect((await follower).reason).toBe("sync-group");
    expect(await took).toBeLessThan(250); // Skew_Time: a2 resigned with priority 0
    expect([...a1.mover.held, ...a2.mover.held]).toEqual([]);
    expect([...b1.mover.held, ...b2.mover.held]).toEqual(["198.18.0.131/24", "198.18.0.132/24"]);
    // a2 keeps its priority but cannot take the group back while a1 is stopped
    await new Promise((r) => setTimeout(r, 600));
    expect([a2.inst.state, b1.inst.state, b2.inst.state]).toEqual(["backup", "master", "master"]);
    expect(a2.inst.priority).toBe(150);
    ga.close();
    gb.close();
  });

  it("a sync group stays in fault while any member has a fault of its own, also one that began during a group fault", async () => {
    const front = new FakeTracker();
    const back = new FakeTracker();
    const make = async (vrid: number, tracks: Tracker[]) => {
      const inst = createInstance({
        name: `m${vrid}`,
        vrid,
        version: 3,
        advertInterval: 100,
        priority: 150,
        virtualAddresses: [`198.18.0.${110 + vrid}/24`],
        transport: await createUdpTransport({
          address: "127.0.0.51",
          peers: ["127.0.0.52"],
          port: portSeq++,
        }),
        vipMover: createMemoryVipMover(),
        announcer: { announce: async () => {} },
        tracks,
      });
      running.push(inst);
      return inst;
    };
    const f = await make(1, [front]);
    const b = await make(2, [back]);
    const g = createSyncGroup("fb", [f, b]);
    const masters = Promise.all([once(f, "master"), once(b, "master")]);
    await Promise.all([f.start(), b.start()]);
    await masters;

    const faults = Promise.all([once(f, "fault"), once(b, "fault")]);
    back.set({ fault: true });
    await faults;
    expect(f.faultSources()).toEqual(["sync-group:fb"]);
    // the front's own check fails while the group already holds it in fault: no transition, no event
    front.set({ fault: true });
    // the back recovers, but the front still has a fault of its own: the back must go (back) to fault
    const backAgain = once<{ from: string }>(b, "fault");
    back.set({ fault: false });
    expect((await backAgain).from).toBe("backup");
    expect([f.state, b.state]).toEqual(["fault", "fault"]);
    expect(b.faultSources()).toEqual(["sync-group:fb"]);

    // the front recovers: no member has a fault left, both take over together
    const back2 = Promise.all([once(f, "master"), once(b, "master")]);
    front.set({ fault: false });
    await back2;
    expect(f.faultSources()).toEqual([]);
    expect(b.faultSources()).toEqual([]);
    g.close();
  });
});
