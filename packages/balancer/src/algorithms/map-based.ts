import { WeightedSampler } from "../fenwick.js";
import type { Server } from "../server.js";
import type { HashMapping } from "./mapping.js";

/**
 * HAProxy's default `hash-type map-based`: the servers, in declaration order, each own a range of the total
 * weight as long as its weight, and a key goes to the range holding `hash × total / 2³²`. Perfectly weighted
 * (to one part in 2³² / total weight), but not consistent: a change in membership or weight shifts the ranges
 * after it, so many keys move (HAProxy's map moves most of them too). The mapping depends only on the set of
 * usable servers and their weights, as HAProxy's table does.
 *
 * HAProxy builds a table with one entry per unit of weight (lb_map.c), which at 100,000 servers of weights
 * 1..256 is 12.8 M entries rebuilt on every change. Here the ranges live in a Fenwick tree keyed by declaration
 * order: a lookup is O(log n), a change O(log n), nothing is ever rebuilt, and memory is 16 bytes per server.
 */
export class MapBased implements HashMapping {
  private readonly ranges = new WeightedSampler<Server>((s) => s.order);

  get size(): number {
    return this.ranges.size;
  }

  add(server: Server): void {
    this.ranges.set(server, server.effectiveWeight);
  }

  remove(server: Server): void {
    this.ranges.delete(server);
  }

  reweight(server: Server): void {
    if (this.ranges.has(server)) this.ranges.set(server, server.effectiveWeight);
  }

  owner(hash: number): Server | undefined {
    // the range holding hash/2^32 of the total: multiply, not modulo, so no server gets the modulo's excess
    return this.ranges.find(Math.floor((hash / 4294967296) * this.ranges.total));
  }

  /** The owner, then the next servers in declaration order (wrapping), each once. */
  *walk(hash: number): Generator<Server> {
    const first = this.owner(hash);
    if (!first) return;
    yield first;
    let s: Server | undefined = first;
    for (let k = 1; k < this.ranges.size; k++) {
      s = this.ranges.after(s);
      if (!s || s === first) return;
      yield s;
    }
  }
}
