import type { Algorithm } from "./algorithm.js";
import type { ServerEntry } from "./server.js";

/**
 * The usable servers of one tier (primaries or backups) and the algorithm instance that balances over them.
 * The list gives O(1) add/remove (swap) and the order-independent completion of candidate lists.
 */
export class Tier {
  readonly list: ServerEntry[] = [];

  constructor(readonly algorithm: Algorithm) {}

  get size(): number {
    return this.list.length;
  }

  add(server: ServerEntry): void {
    server.tierPos = this.list.length;
    this.list.push(server);
    this.algorithm.add(server);
  }

  remove(server: ServerEntry): void {
    const pos = server.tierPos;
    if (pos < 0 || this.list[pos] !== server) return;
    const last = this.list.pop()!;
    if (last !== server) {
      this.list[pos] = last;
      last.tierPos = pos;
    }
    server.tierPos = -1;
    this.algorithm.remove(server);
  }

  reweight(server: ServerEntry, previous: number): void {
    if (this.algorithm.reweight) this.algorithm.reweight(server, previous);
    else {
      this.algorithm.remove(server);
      this.algorithm.add(server);
    }
  }

  has(server: ServerEntry): boolean {
    return server.tierPos >= 0 && this.list[server.tierPos] === server;
  }
}
