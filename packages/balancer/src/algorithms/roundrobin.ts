import { type HeapNode, IndexedHeap } from "@lbkit/core";
import type { Algorithm, AlgorithmFactory } from "../algorithm.js";
import type { Server } from "../server.js";
import { checkOptions } from "./options.js";

/**
 * Smooth weighted round-robin (nginx's): each pick adds every server's weight to its current value, takes the
 * highest (ties: declared first) and subtracts the total weight from it. Weights 5,1,1 give a a b a c a a.
 *
 * Exact, and O(distinct weights + log n) per pick instead of O(n): a server's current value is
 * A + k·w after k picks, a line with slope w. Servers of equal weight keep their order forever, so each weight
 * class is one heap ordered by A, and a pick compares only the class heads (at most 257 weights exist).
 * Weight changes keep the server's current value, as nginx does, so dynamic weights (slow start, agent
 * checks) shift traffic smoothly.
 */
class Member implements HeapNode {
  heapPos = -1;
  constructor(
    readonly server: Server,
    public w: number,
    /** current value = a + step·w */
    public a: number,
  ) {}
}

const before = (x: Member, y: Member) => x.a > y.a || (x.a === y.a && x.server.order < y.server.order);

export class SmoothRoundRobin implements Algorithm {
  readonly name: string;
  readonly staticWeights: boolean;
  private readonly members = new Map<Server, Member>();
  private readonly classes = new Map<number, IndexedHeap<Member>>();
  private heads: IndexedHeap<Member>[] = [];
  private step = 0;
  private total = 0;

  constructor(private readonly dynamic = true) {
    this.name = dynamic ? "roundrobin" : "static-rr";
    this.staticWeights = !dynamic;
  }

  get size(): number {
    return this.members.size;
  }

  add(server: Server): void {
    const w = server.effectiveWeight;
    const m = new Member(server, w, -this.step * w);
    this.members.set(server, m);
    this.join(m);
    this.total += w;
  }

  remove(server: Server): void {
    const m = this.members.get(server);
    if (!m) return;
    this.leave(m);
    this.members.delete(server);
    this.total -= m.w;
  }

  reweight(server: Server): void {
    // static-rr ignores weight changes at run time, as HAProxy's does
    if (!this.dynamic) return;
    const m = this.members.get(server);
    if (!m) return;
    const current = m.a + this.step * m.w;
    this.leave(m);
    this.total += server.effectiveWeight - m.w;
    m.w = server.effectiveWeight;
    m.a = current - this.step * m.w;
    this.join(m);
  }

  pick(): Server | undefined {
    const heads = this.heads;
    if (heads.length === 0) return undefined;
    const k = ++this.step;
    let best: Member | undefined;
    let bestValue = 0;
    for (let i = 0; i < heads.length; i++) {
      const m = heads[i]!.peek()!;
      const v = m.a + k * m.w;
      if (best === undefined || v > bestValue || (v === bestValue && m.server.order < best.server.order)) {
        best = m;
        bestValue = v;
      }
    }
    best!.a -= this.total;
    this.classes.get(best!.w)!.update(best!);
    if (k > 1e12) this.rebase();
    return best!.server;
  }

  private join(m: Member): void {
    let heap = this.classes.get(m.w);
    if (!heap) {
      heap = new IndexedHeap(before);
      this.classes.set(m.w, heap);
      this.heads.push(heap);
    }
    heap.push(m);
  }

  private leave(m: Member): void {
    const heap = this.classes.get(m.w)!;
    heap.remove(m);
    if (heap.size === 0) {
      this.classes.delete(m.w);
      this.heads = this.heads.filter((h) => h !== heap);
    }
  }

  /** Keep the numbers small after very long runs: fold the step into each member's offset. */
  private rebase(): void {
    for (const m of this.members.values()) m.a += this.step * m.w;
    this.step = 0;
  }
}

/** HAProxy `roundrobin`: smooth weighted round-robin; weights may change at run time. */
export function roundRobin(options?: Record<string, never>): AlgorithmFactory {
  checkOptions("roundrobin", options, []);
  return { name: "roundrobin", create: () => new SmoothRoundRobin(true) };
}

/** HAProxy `static-rr`: the same rotation, with weights fixed when a server joins. */
export function staticRoundRobin(options?: Record<string, never>): AlgorithmFactory {
  checkOptions("static-rr", options, []);
  return { name: "static-rr", create: () => new SmoothRoundRobin(false) };
}
