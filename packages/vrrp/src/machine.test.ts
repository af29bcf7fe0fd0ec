import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Advert } from "./codec.js";
import {
  effectivePriority,
  initialState,
  type MachineAction,
  type MachineConfig,
  type MachineEvent,
  type MachineState,
  masterDownInterval,
  skewTime,
  step,
} from "./machine.js";

const v3: MachineConfig = { version: 3, vrid: 7, advertInterval: 1000, primaryAddress: "198.18.0.2" };
const advert = (priority: number, advertInterval = 1000): Advert => ({
  version: 3,
  vrid: 7,
  priority,
  advertInterval,
  addresses: ["198.18.0.100"],
});

/** Runs events through the machine, collecting actions. */
function run(c: MachineConfig, priority: number, events: [number, MachineEvent][]) {
  let s = initialState(c, priority);
  const log: { now: number; actions: MachineAction[] }[] = [];
  for (const [now, e] of events) {
    const r = step(c, s, e, now);
    s = r.state;
    log.push({ now, actions: r.actions });
  }
  return { s, log, last: log.at(-1)!.actions };
}

describe("timers", () => {
  it("Master_Down_Interval = 3 × interval + Skew_Time (v3) and keepalived's v2 form", () => {
    expect(skewTime(3, 100, 1000)).toBeCloseTo((156 * 1000) / 256);
    expect(masterDownInterval(3, 100, 100)).toBeCloseTo(300 + (156 * 100) / 256);
    expect(masterDownInterval(2, 100, 1000)).toBeCloseTo(3000 + (156 * 1000) / 256);
    expect(masterDownInterval(2, 100, 3000)).toBeCloseTo(9000 + (156 * 1000) / 256);
  });
  it("effective priority clamps to 1..254, owner stays 255", () => {
    expect(effectivePriority(100, [50, 200])).toBe(254);
    expect(effectivePriority(100, [-150])).toBe(1);
    expect(effectivePriority(255, [-100])).toBe(255);
  });
});

describe("RFC 5798 §6.4 transitions", () => {
  it("startup: a non-owner becomes backup with the Master_Down_Timer; the owner becomes master at once", () => {
    const b = run(v3, 100, [[0, { type: "startup" }]]);
    expect(b.s.state).toBe("backup");
    expect(b.s.timerAt).toBeCloseTo(masterDownInterval(3, 100, 1000));
    const o = run(v3, 255, [[0, { type: "startup" }]]);
    expect(o.s.state).toBe("master");
    expect(o.last).toEqual(
      expect.arrayContaining([
        { type: "sendAdvert", priority: 255 },
        { type: "announce" },
        expect.anything(),
      ]),
    );
  });

  it("backup → master when the Master_Down_Timer fires: advert, VIPs, GARP, event", () => {
    const down = masterDownInterval(3, 100, 1000);
    const r = run(v3, 100, [
      [0, { type: "startup" }],
      [down - 1, { type: "timer" }],
      [down, { type: "timer" }],
    ]);
    expect(r.log[1]!.actions).toEqual([{ type: "setTimer", at: down }]);
    expect(r.s.state).toBe("master");
    expect(r.last.map((a) => a.type)).toEqual(["sendAdvert", "addVips", "announce", "setTimer", "emit"]);
    expect(r.last.at(-1)).toMatchObject({ event: "master", reason: "master-down-timer", from: "backup" });
  });

  it("a priority-0 advert makes the backup wait Skew_Time only", () => {
    const r = run(v3, 100, [
      [0, { type: "startup" }],
      [500, { type: "advert", src: "198.18.0.1", advert: advert(0) }],
    ]);
    expect(r.s.timerAt).toBeCloseTo(500 + skewTime(3, 100, 1000));
    const t = step(v3, r.s, { type: "timer" }, r.s.timerAt!);
    expect(t.actions.at(-1)).toMatchObject({ event: "master", reason: "peer-resigned" });
  });

  it("v3 learns the master's advert interval", () => {
    const r = run(v3, 100, [
      [0, { type: "startup" }],
      [10, { type: "advert", src: "198.18.0.1", advert: advert(200, 100) }],
    ]);
    expect(r.s.masterAdverInterval).toBe(100);
    expect(r.s.timerAt).toBeCloseTo(10 + masterDownInterval(3, 100, 100));
  });

  it("preempt: a backup ignores a lower-priority master and takes over; nopreempt defers", () => {
    const pre = run(v3, 150, [
      [0, { type: "startup" }],
      [10, { type: "advert", src: "198.18.0.1", advert: advert(100) }],
    ]);
    expect(pre.last).toEqual([]);
    const no = run({ ...v3, preempt: false }, 150, [
      [0, { type: "startup" }],
      [10, { type: "advert", src: "198.18.0.1", advert: advert(100) }],
    ]);
    expect(no.s.timerAt).toBeCloseTo(10 + masterDownInterval(3, 150, 1000));
  });

  it("preempt_delay: defer to a lower-priority master until the delay has passed", () => {
    const c = { ...v3, preemptDelay: 5000 };
    const r = run(c, 150, [
      [0, { type: "startup" }],
      [1000, { type: "advert", src: "198.18.0.1", advert: advert(100) }],
      [5000, { type: "advert", src: "198.18.0.1", advert: advert(100) }],
      [6000, { type: "advert", src: "198.18.0.1", advert: advert(100) }],
    ]);
    expect(r.log[1]!.actions).toHaveLength(1);
    expect(r.log[2]!.actions).toHaveLength(1);
    expect(r.last).toEqual([]); // now the delay is over: the advert is ignored, the timer runs out
  });

  it("master → backup on a higher priority, or an equal one from a higher address", () => {
    const toMaster: [number, MachineEvent][] = [[0, { type: "startup" }]];
    const c = { ...v3 };
    const base = run(c, 255, toMaster).s;
    const s = { ...base, priority: 100 };
    const hi = step(c, s, { type: "advert", src: "198.18.0.1", advert: advert(101) }, 5);
    expect(hi.state.state).toBe("backup");
    // keepalived higher_prio_send_advert (default on): one advert of our own priority first, then the VIPs go
    expect(hi.actions.slice(0, 2)).toEqual([{ type: "sendAdvert", priority: 100 }, { type: "removeVips" }]);
    expect(hi.actions.at(-1)).toMatchObject({ event: "backup", reason: "higher-priority" });
    const tieHigh = step(c, s, { type: "advert", src: "198.18.0.3", advert: advert(100) }, 5);
    expect(tieHigh.actions.at(-1)).toMatchObject({ reason: "equal-priority-higher-address" });
    const tieLow = step(c, s, { type: "advert", src: "198.18.0.1", advert: advert(100) }, 5);
    expect(tieLow.state.state).toBe("master");
  });

  it("a master hearing a lower priority answers at once and re-announces (keepalived)", () => {
    const s: MachineState = { ...run(v3, 255, [[0, { type: "startup" }]]).s, priority: 200 };
    const r = step(v3, s, { type: "advert", src: "198.18.0.9", advert: advert(100) }, 50);
    expect(r.actions.map((a) => a.type)).toEqual(["sendAdvert", "announce", "setTimer"]);
    const quiet = step(
      { ...v3, lowerPrioNoAdvert: true },
      s,
      { type: "advert", src: "198.18.0.9", advert: advert(1) },
      5,
    );
    expect(quiet.actions).toEqual([]);
  });

  it("shutdown as master sends priority 0 and removes the VIPs", () => {
    const r = run(v3, 255, [
      [0, { type: "startup" }],
      [10, { type: "shutdown" }],
    ]);
    expect(r.last).toEqual([
      { type: "sendAdvert", priority: 0 },
      { type: "removeVips" },
      { type: "setTimer", at: undefined },
      { type: "emit", event: "stop", reason: "shutdown", from: "master" },
    ]);
    expect(r.s.state).toBe("initialize");
  });

  it("fault: leaves master with a priority-0 advert, ignores adverts, returns to backup when cleared", () => {
    const r = run(v3, 255, [
      [0, { type: "startup" }],
      [10, { type: "fault", fault: true }],
      [20, { type: "advert", src: "198.18.0.1", advert: advert(0) }],
      [30, { type: "timer" }],
    ]);
    expect(r.log[1]!.actions.slice(0, 2)).toEqual([
      { type: "sendAdvert", priority: 0 },
      { type: "removeVips" },
    ]);
    expect(r.s.state).toBe("fault");
    expect(r.log[2]!.actions).toEqual([]);
    const c = step(v3, { ...r.s, priority: 100 }, { type: "fault", fault: false }, 40);
    expect(c.state.state).toBe("backup");
    expect(c.actions.at(-1)).toMatchObject({ event: "backup", reason: "fault-cleared" });
  });

  it("a tracked priority change as master is advertised at once", () => {
    const s = run(v3, 255, [[0, { type: "startup" }]]).s;
    const r = step(v3, { ...s, priority: 200 }, { type: "priority", priority: 90 }, 5);
    expect(r.actions).toEqual([
      { type: "emit", event: "priority", from: 200, to: 90 },
      { type: "sendAdvert", priority: 90 },
    ]);
  });

  it("handover: resign with priority 0 and stay backup at the lowered priority", () => {
    const s = { ...run(v3, 255, [[0, { type: "startup" }]]).s, priority: 200 };
    const r = step(v3, s, { type: "handover", priority: 1 }, 5);
    expect(r.state).toMatchObject({ state: "backup", priority: 1 });
    expect(r.actions).toContainEqual({ type: "sendAdvert", priority: 0 });
    expect(r.actions).toContainEqual({ type: "removeVips" });
  });
});

describe("sync-group hold", () => {
  it("a held backup whose timer fires becomes ready instead of master; sync makes it master", () => {
    const down = masterDownInterval(3, 100, 1000);
    const r = run(v3, 100, [
      [0, { type: "hold", hold: true }],
      [0, { type: "startup" }],
      [down, { type: "timer" }],
    ]);
    expect(r.s).toMatchObject({ state: "backup", ready: true, timerAt: undefined });
    expect(r.last).toEqual([{ type: "ready" }]);
    const m = step(v3, r.s, { type: "sync", to: "master" }, down + 5);
    expect(m.state.state).toBe("master");
    expect(m.actions.at(-1)).toMatchObject({ event: "master", reason: "sync-group" });
    const b = step(v3, m.state, { type: "sync", to: "backup" }, down + 10);
    expect(b.state.state).toBe("backup");
    expect(b.actions[0]).toEqual({ type: "removeVips" });
    // following a member's handover: resign with a priority-0 advert first, keep the priority
    const h = step(v3, m.state, { type: "sync", to: "backup", resign: true }, down + 10);
    expect(h.state).toMatchObject({ state: "backup", priority: 100 });
    expect(h.actions.slice(0, 2)).toEqual([{ type: "sendAdvert", priority: 0 }, { type: "removeVips" }]);
    expect(h.actions.at(-1)).toMatchObject({ event: "backup", reason: "sync-group", from: "master" });
    // resign means nothing to a member that is not master
    expect(step(v3, r.s, { type: "sync", to: "backup", resign: true }, down + 10).actions).toEqual([]);
  });
  it("an advert clears ready; releasing the hold while ready takes over at once", () => {
    const down = masterDownInterval(3, 100, 1000);
    const r = run(v3, 100, [
      [0, { type: "hold", hold: true }],
      [0, { type: "startup" }],
      [down, { type: "timer" }],
    ]);
    const a = step(v3, r.s, { type: "advert", src: "198.18.0.1", advert: advert(120) }, down + 1);
    expect(a.state.ready).toBe(false);
    const rel = step(v3, r.s, { type: "hold", hold: false }, down + 1);
    expect(rel.state.state).toBe("master");
  });
});

// ---- a simulated segment: N machines, fake time, adverts delivered to everyone else after `latency` ms ----

interface Node {
  c: MachineConfig;
  s: MachineState;
  alive: boolean;
  vips: boolean;
}

type Ev = { at: number; seq: number; node: number; e: MachineEvent };
// timer events carry their deadline; one that is no longer the node's pending deadline is stale

class Segment {
  queue: Ev[] = [];
  seq = 0;
  now = 0;
  deadline: number | undefined;
  constructor(
    public nodes: Node[],
    readonly latency = 1,
  ) {}
  push(at: number, node: number, e: MachineEvent) {
    this.queue.push({ at, seq: this.seq++, node, e });
  }
  apply(i: number, e: MachineEvent) {
    const n = this.nodes[i]!;
    if (!n.alive && e.type !== "startup") return;
    if (e.type === "timer" && this.deadline !== undefined && n.s.timerAt !== this.deadline) return;
    const r = step(n.c, n.s, e, this.now);
    n.s = r.state;
    for (const a of r.actions) {
      if (a.type === "setTimer" && a.at !== undefined) this.push(a.at, i, { type: "timer" });
      if (a.type === "addVips") n.vips = true;
      if (a.type === "removeVips") n.vips = false;
      if (a.type === "sendAdvert")
        this.nodes.forEach((_, j) => {
          if (j !== i)
            this.push(this.now + this.latency, j, {
              type: "advert",
              src: n.c.primaryAddress,
              advert: { ...advert(a.priority, n.c.advertInterval), vrid: n.c.vrid },
            });
        });
    }
  }
  runUntil(t: number) {
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const ev = this.queue[0];
      if (!ev || ev.at > t) break;
      this.queue.shift();
      this.now = ev.at;
      this.deadline = ev.e.type === "timer" ? ev.at : undefined;
      this.apply(ev.node, ev.e);
      this.deadline = undefined;
    }
    this.now = t;
  }
  masters() {
    return this.nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.alive && n.s.state === "master");
  }
}

function segment(priorities: number[], interval: number, version: 2 | 3 = 3) {
  return new Segment(
    priorities.map((p, i) => {
      const c: MachineConfig = {
        version,
        vrid: 7,
        advertInterval: interval,
        primaryAddress: `198.18.0.${i + 1}`,
      };
      return { c, s: initialState(c, p), alive: true, vips: false };
    }),
  );
}

describe("a simulated segment (fast-check, fake time)", () => {
  it("after convergence exactly one master: the highest priority, ties to the higher address", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 254 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(10, 50, 100, 1000),
        fc.constantFrom(2 as const, 3 as const),
        (prios, interval, version) => {
          const advertInterval = version === 2 ? 1000 : interval;
          const seg = segment(prios, advertInterval, version);
          seg.nodes.forEach((_, i) => {
            seg.push(0, i, { type: "startup" });
          });
          seg.runUntil(10 * advertInterval + 2000);
          const m = seg.masters();
          expect(m).toHaveLength(1);
          const best = Math.max(...prios);
          expect(m[0]!.n.s.priority).toBe(best);
          expect(m[0]!.i).toBe(prios.lastIndexOf(best)); // higher index = higher address
          // only the master holds the VIPs
          expect(seg.nodes.filter((n) => n.vips)).toHaveLength(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("under random failures, restarts and priority changes the segment re-converges on the best live node", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("kill" as const), node: fc.nat(7) }),
      fc.record({ kind: fc.constant("restart" as const), node: fc.nat(7) }),
      fc.record({
        kind: fc.constant("priority" as const),
        node: fc.nat(7),
        p: fc.integer({ min: 1, max: 254 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 254 }), { minLength: 2, maxLength: 8 }),
        fc.array(fc.tuple(op, fc.integer({ min: 1, max: 5000 })), { maxLength: 12 }),
        (prios, ops) => {
          const interval = 100;
          const seg = segment(prios, interval);
          seg.nodes.forEach((_, i) => {
            seg.push(0, i, { type: "startup" });
          });
          let t = 2000;
          seg.runUntil(t);
          for (const [o, gap] of ops) {
            const i = o.node % seg.nodes.length;
            const n = seg.nodes[i]!;
            if (o.kind === "kill" && n.alive) {
              seg.apply(i, { type: "shutdown" });
              n.alive = false;
            } else if (o.kind === "restart" && !n.alive) {
              n.alive = true;
              n.s = initialState(n.c, n.s.priority);
              seg.apply(i, { type: "startup" });
            } else if (o.kind === "priority" && n.alive) {
              seg.apply(i, { type: "priority", priority: o.p });
            }
            t += gap;
            seg.runUntil(t);
          }
          seg.runUntil(t + 20 * interval);
          const live = seg.nodes.filter((n) => n.alive);
          const m = seg.masters();
          if (live.length === 0) {
            expect(m).toHaveLength(0);
            return;
          }
          expect(m).toHaveLength(1);
          expect(m[0]!.n.s.priority).toBe(Math.max(...live.map((n) => n.s.priority)));
          expect(seg.nodes.filter((n) => n.vips)).toEqual([m[0]!.n]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a graceful stop hands over within Skew_Time of the priority-0 advert (plus latency)", () => {
    const seg = segment([200, 100], 1000);
    seg.push(0, 0, { type: "startup" });
    seg.push(0, 1, { type: "startup" });
    seg.runUntil(10_000);
    expect(seg.masters().map((m) => m.i)).toEqual([0]);
    seg.apply(0, { type: "shutdown" });
    seg.nodes[0]!.alive = false;
    seg.runUntil(10_000 + 1 + skewTime(3, 100, 1000));
    expect(seg.masters().map((m) => m.i)).toEqual([1]);
  });
});
