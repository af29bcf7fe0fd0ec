// Maglev across balancer nodes: N balancers behind ECMP each build their own Pool; a flow that ECMP moves to
// another balancer must still reach the same server. That holds only if the table depends on the server set
// alone — not on the order servers were added, nor on which node built it.
import { maglev, Pool, source } from "@lbkit/balancer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const servers = Array.from({ length: 7 }, (_, i) => ({
  id: `web-${i}`,
  address: `198.18.0.${40 + i}`,
  port: 80,
}));

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const flowKey = (i: number) => `198.18.2.${i % 250}:${10_000 + i}`;

describe("Maglev: the same table on every balancer", () => {
  it("two pools built independently, servers in different orders, pick the same server for every flow", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (s1, s2) => {
          const a = new Pool({ algorithm: maglev(), servers: shuffled(servers, s1) });
          const b = new Pool({ algorithm: maglev(), servers: shuffled(servers, s2) });
          for (let i = 0; i < 2000; i++) {
            const key = flowKey(i);
            const pa = a.pick({ key });
            const pb = b.pick({ key });
            expect(pa.ok && pb.ok && pa.server.id === pb.server.id).toBe(true);
          }
        },
      ),
      { numRuns: 10 },
    );
  });

  it("a server added on one node at run time gives the same table as one built with it, once rebuilt", () => {
    const a = new Pool({ algorithm: maglev(), servers: servers.slice(0, 6) });
    a.pick({ key: "warm" }); // the first table is built
    a.add(servers[6]!);
    // the rebuild runs in slices while the old table serves; until it is swapped in, nodes can differ for the
    // new server's share of keys: rebalance() finishes it now (a node does this when its membership changes)
    a.rebalance();
    const b = new Pool({ algorithm: maglev(), servers: shuffled(servers, 7) });
    for (let i = 0; i < 2000; i++) {
      const pa = a.pick({ key: flowKey(i) });
      const pb = b.pick({ key: flowKey(i) });
      expect(pa.ok && pb.ok && pa.server.id).toBe(pb.ok && pb.server.id);
    }
  });

  it("source affinity (Maglev on the client address) does not depend on the balancer a client lands on", () => {
    const nodes = [1, 2, 3].map(
      (seed) => new Pool({ algorithm: source({ hashType: "maglev" }), servers: shuffled(servers, seed) }),
    );
    for (let i = 0; i < 500; i++) {
      const client = `198.18.3.${i % 250}:${20_000 + i}`; // the port is ignored: every flow of a client sticks
      const picks = nodes.map((p) => {
        const r = p.pick({ source: client });
        return r.ok ? r.server.id : undefined;
      });
      expect(new Set(picks).size).toBe(1);
      const again = nodes[0]!.pick({ source: `198.18.3.${i % 250}:1` });
      expect(again.ok && again.server.id).toBe(picks[0]);
    }
  });
});
