import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { idOf } from "../../test/support.js";
import { Pool } from "../pool.js";
import type { Server } from "../server.js";
import { SmoothRoundRobin } from "./roundrobin.js";

/** nginx's smooth weighted round-robin, the O(n) way, as the reference. */
class NaiveSmooth {
  readonly peers: { server: Server; current: number }[] = [];
  add(server: Server) {
    this.peers.push({ server, current: 0 });
    this.peers.sort((a, b) => a.server.order - b.server.order);
  }
  remove(server: Server) {
    this.peers.splice(
      this.peers.findIndex((p) => p.server === server),
      1,
    );
  }
  pick(): Server | undefined {
    let best: (typeof this.peers)[number] | undefined;
    let total = 0;
    for (const p of this.peers) {
      p.current += p.server.effectiveWeight;
      total += p.server.effectiveWeight;
      if (!best || p.current > best.current) best = p;
    }
    if (!best) return undefined;
    best.current -= total;
    return best.server;
  }
}

const fakeServer = (id: string, order: number, weight: number) =>
  ({ id, order, effectiveWeight: weight, weight, inFlight: 0 }) as unknown as Server & {
    effectiveWeight: number;
  };

describe("roundrobin", () => {
  it("spreads weights 5,1,1 as a a b a c a a", () => {
    const pool = new Pool({ servers: [{ id: "a", weight: 5 }, { id: "b" }, { id: "c" }] });
    const seq = Array.from({ length: 14 }, () => idOf(pool.pick()));
    expect(seq.join(" ")).toBe("a a b a c a a a a b a c a a");
  });

  it("rotates equal weights in declaration order", () => {
    const pool = new Pool({ servers: [{ id: "a" }, { id: "b" }, { id: "c" }] });
    expect(Array.from({ length: 6 }, () => idOf(pool.pick())).join("")).toBe("abcabc");
  });

  it("takes a weight change at run time", () => {
    const pool = new Pool({ servers: [{ id: "a" }, { id: "b" }] });
    pool.setWeight("b", 3);
    const counts = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 400; i++) counts[idOf(pool.pick())]!++;
    expect(counts).toEqual({ a: 100, b: 300 });
  });

  it("is exactly nginx's sequence under any mix of picks, joins, leaves and weight changes", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("pick" as const), n: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ kind: fc.constant("add" as const), w: fc.integer({ min: 1, max: 256 }) }),
      fc.record({ kind: fc.constant("remove" as const), i: fc.nat() }),
      fc.record({ kind: fc.constant("reweight" as const), i: fc.nat(), w: fc.integer({ min: 1, max: 256 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const fast = new SmoothRoundRobin();
        const slow = new NaiveSmooth();
        const live: ReturnType<typeof fakeServer>[] = [];
        let order = 0;
        for (const o of ops) {
          if (o.kind === "pick") {
            for (let k = 0; k < o.n; k++) expect(fast.pick()?.id).toBe(slow.pick()?.id);
          } else if (o.kind === "add") {
            const s = fakeServer(`s${order}`, order++, o.w);
            live.push(s);
            fast.add(s);
            slow.add(s);
          } else if (live.length > 0) {
            const s = live[o.i % live.length]!;
            if (o.kind === "remove") {
              live.splice(live.indexOf(s), 1);
              fast.remove(s);
              slow.remove(s);
            } else {
              s.effectiveWeight = o.w;
              fast.reweight(s);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("static-rr", () => {
  it("ignores weight changes at run time", () => {
    const pool = new Pool({ algorithm: "static-rr", servers: [{ id: "a" }, { id: "b" }] });
    pool.setWeight("b", 3);
    const counts = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 400; i++) counts[idOf(pool.pick())]!++;
    expect(counts).toEqual({ a: 200, b: 200 });
  });

  it("uses the new weight once a server rejoins", () => {
    const pool = new Pool({ algorithm: "static-rr", servers: [{ id: "a" }, { id: "b" }] });
    pool.setWeight("b", 3);
    pool.setState("b", "maint");
    pool.setState("b", "up");
    const counts = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 400; i++) counts[idOf(pool.pick())]!++;
    expect(counts).toEqual({ a: 100, b: 300 });
  });
});
