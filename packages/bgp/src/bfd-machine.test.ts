import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { controlPacket } from "../test/support.js";
import type { BfdPacket } from "./bfd-codec.js";
import { type BfdAction, BfdMachine, type BfdTimers } from "./bfd-machine.js";

/** Two machines on a lossless link with `delay` ms latency, stepped deadline by deadline. */
function simulate(
  a: BfdMachine,
  b: BfdMachine,
  opts: { until: number; delay: number; cutAt?: number; seed?: number },
) {
  let now = 0;
  let rnd = opts.seed ?? 1;
  const jitter = () => {
    rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
    return rnd / 2 ** 31;
  };
  const inflight: { at: number; to: BfdMachine; packet: BfdPacket }[] = [];
  const log: { at: number; who: "a" | "b"; action: BfdAction }[] = [];
  const perform = (who: "a" | "b", actions: BfdAction[]) => {
    for (const action of actions) {
      log.push({ at: now, who, action });
      if (action.type !== "send") continue;
      if (who === "a" && opts.cutAt !== undefined && now >= opts.cutAt) continue; // a crashed: silent
      inflight.push({ at: now + opts.delay, to: who === "a" ? b : a, packet: action.packet });
    }
  };
  while (now < opts.until) {
    const next = Math.min(a.deadline, b.deadline, ...inflight.map((m) => m.at));
    now = Math.max(now, next);
    if (now >= opts.until) break;
    for (const m of inflight.filter((m) => m.at <= now)) {
      inflight.splice(inflight.indexOf(m), 1);
      perform(m.to === a ? "a" : "b", m.to.receive(m.packet, now));
    }
    if (a.deadline <= now) perform("a", a.tick(now, jitter()));
    if (b.deadline <= now) perform("b", b.tick(now, jitter()));
  }
  return log;
}

const fast: BfdTimers = { desiredMinTx: 100, requiredMinRx: 100, detectMult: 3 };

describe("BFD state machine", () => {
  it("two speakers come Up through Init and then run at the fast rate after a Poll Sequence", () => {
    const a = new BfdMachine(1, fast, 0);
    const b = new BfdMachine(2, fast, 0);
    const log = simulate(a, b, { until: 5000, delay: 1 });
    expect(a.state).toBe("Up");
    expect(b.state).toBe("Up");
    const changes = log.filter((l) => l.who === "a" && l.action.type === "change").map((l) => l.action);
    expect(changes.map((c) => c.type === "change" && c.to)).toEqual(["Init", "Up"]);
    // after the poll completes, a sends at 75-100 % of 100 ms
    const sends = log
      .filter((l) => l.who === "a" && l.action.type === "send" && l.at > 4000)
      .map((l) => l.at);
    const gaps = sends.slice(1).map((t, i) => t - sends[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(100);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(75);
    expect(a.pollActive).toBe(false);
  });

  it("a silent peer is declared Down within the detection time (detect-expired)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 500 }),
        fc.integer({ min: 10, max: 500 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 1000 }),
        (tx, rx, mult, seed) => {
          const timers = { desiredMinTx: tx, requiredMinRx: rx, detectMult: mult };
          const a = new BfdMachine(11, timers, 0);
          const b = new BfdMachine(22, timers, 0);
          const cutAt = 6000;
          const log = simulate(a, b, { until: cutAt + 5000, delay: 1, cutAt, seed });
          const down = log.find((l) => l.who === "b" && l.at >= cutAt && l.action.type === "change");
          expect(down?.action).toEqual({ type: "change", from: "Up", to: "Down", diag: "detect-expired" });
          // the last packet from a left before cutAt; b's detection time is mult × max(rx, a's tx)
          expect(down!.at - cutAt).toBeLessThanOrEqual(mult * Math.max(rx, tx) + 1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("never goes Up without hearing the peer in Init or Up (three-way handshake)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("AdminDown", "Down", "Init", "Up") as fc.Arbitrary<BfdPacket["state"]>, {
          maxLength: 20,
        }),
        (states) => {
          const m = new BfdMachine(5, fast, 0);
          let t = 0;
          for (const state of states) {
            const before = m.state;
            t += 10;
            const actions = m.receive(peerPacket(state, 9, 5), t);
            const up = actions.find((x) => x.type === "change" && x.to === "Up");
            if (up) {
              expect(state === "Init" || (state === "Up" && before === "Init")).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("answers a Poll with a Final, drops packets for another discriminator, honours AdminDown", () => {
    const m = new BfdMachine(5, fast, 0);
    expect(m.receive(peerPacket("Down", 9, 77), 1)).toEqual([]); // your-discriminator is not ours
    const polled = m.receive({ ...peerPacket("Down", 9, 0), poll: true }, 2);
    expect(polled.at(-1)).toMatchObject({
      type: "send",
      packet: { final: true, poll: false, yourDiscriminator: 9 },
    });
    expect(m.state).toBe("Init");
    m.receive(peerPacket("Up", 9, 5), 3);
    expect(m.state).toBe("Up");
    expect(m.receive(peerPacket("AdminDown", 9, 5), 4)).toEqual([
      { type: "change", from: "Up", to: "Down", diag: "neighbor-down" },
    ]);
    expect(m.adminDown(5)).toEqual([
      { type: "change", from: "Down", to: "AdminDown", diag: "admin-down" },
      { type: "send", packet: expect.objectContaining({ state: "AdminDown", diag: "admin-down" }) },
    ]);
    expect(m.receive(peerPacket("Init", 9, 5), 6)).toEqual([]);
    expect(m.state).toBe("AdminDown");
  });

  it("sends at no less than one second while not Up (RFC 5880 §6.8.3)", () => {
    const m = new BfdMachine(5, fast, 0);
    expect(m.packet().desiredMinTxInterval).toBe(1_000_000);
    m.tick(0, 0.5);
    expect(m.nextTxAt).toBeGreaterThanOrEqual(750);
  });
});

function peerPacket(state: BfdPacket["state"], my: number, your: number): BfdPacket {
  return controlPacket({ state, myDiscriminator: my, yourDiscriminator: your });
}
