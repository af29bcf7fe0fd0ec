import type { Algorithm, AlgorithmFactory } from "../algorithm.js";
import type { Server } from "../server.js";
import { checkOptions } from "./options.js";

/**
 * HAProxy `first`: the first server in declaration order that still has room below its maxConn takes the
 * request, so traffic packs onto as few servers as possible (the rest can be powered down). A server without
 * maxConn always has room. Also how the pool picks its backup when `allBackups` is off.
 */
export class First implements Algorithm {
  readonly name = "first";
  /** Usable servers sorted by declaration order. */
  private readonly list: Server[] = [];

  add(server: Server): void {
    const list = this.list;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.order < server.order) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, server);
  }

  remove(server: Server): void {
    const i = this.list.indexOf(server);
    if (i >= 0) this.list.splice(i, 1);
  }

  reweight(): void {}

  pick(): Server | undefined {
    for (const s of this.list) if (s.maxConn === 0 || s.inFlight < s.maxConn) return s;
    return this.list[0];
  }

  fallbacks(): Iterable<Server> {
    return this.list;
  }
}

export function first(options?: Record<string, never>): AlgorithmFactory {
  checkOptions("first", options, []);
  return { name: "first", create: () => new First() };
}
