import { type HeapNode, IndexedHeap } from "@lbkit/core";
import type { Algorithm, AlgorithmFactory } from "../algorithm.js";
import type { Server } from "../server.js";
import { checkOptions } from "./options.js";

class Member implements HeapNode {
  heapPos = -1;
  /** When it was last picked: among equal loads the one picked longest ago goes first (round-robin). */
  seq = 0;
  constructor(readonly server: Server) {}
}

/** Load relative to weight, compared without division: (inFlight + 1) / weight. */
const before = (x: Member, y: Member) => {
  const lx = (x.server.inFlight + 1) * y.server.effectiveWeight;
  const ly = (y.server.inFlight + 1) * x.server.effectiveWeight;
  return lx < ly || (lx === ly && x.seq < y.seq);
};

/**
 * HAProxy `leastconn`: the server with the fewest requests in flight relative to its weight, ties broken
 * round-robin. O(log n): a heap keyed by load, re-keyed when a request starts or ends.
 * The `+ 1` makes weights count at zero load too, so a burst spreads by weight.
 */
export class LeastConn implements Algorithm {
  readonly name = "leastconn";
  private readonly heap = new IndexedHeap<Member>(before);
  private readonly members = new Map<Server, Member>();
  private seq = 0;

  add(server: Server): void {
    const m = new Member(server);
    m.seq = ++this.seq;
    this.members.set(server, m);
    this.heap.push(m);
  }

  remove(server: Server): void {
    const m = this.members.get(server);
    if (!m) return;
    this.heap.remove(m);
    this.members.delete(server);
  }

  reweight(server: Server): void {
    this.loadChanged(server);
  }

  loadChanged(server: Server): void {
    const m = this.members.get(server);
    if (m) this.heap.update(m);
  }

  pick(): Server | undefined {
    const m = this.heap.peek();
    if (!m) return undefined;
    m.seq = ++this.seq;
    this.heap.update(m);
    return m.server;
  }

  *fallbacks(): Generator<Server> {
    for (const m of this.heap.ordered()) yield m.server;
  }
}

export function leastConn(options?: Record<string, never>): AlgorithmFactory {
  checkOptions("leastconn", options, []);
  return { name: "leastconn", create: () => new LeastConn() };
}
