import type { Server } from "../server.js";

/**
 * How a hash value maps to servers: map-based (modulo), Ketama ring, Maglev table, jump hash.
 * `walk` gives the owner first, then distinct further servers in the mapping's own order (next ring points,
 * next table entries, the next jump attempt), which is what retries and bounded load step through.
 */
export interface HashMapping {
  readonly size: number;
  add(server: Server): void;
  remove(server: Server): void;
  reweight(server: Server): void;
  owner(hash: number): Server | undefined;
  walk(hash: number): Iterable<Server>;
}

/**
 * A lookup table rebuilt from its member set on the first lookup after a change (map-based, Maglev): a burst
 * of changes costs one rebuild. A key owns slot `hash mod length`; its fallbacks are the next slots' servers.
 */
export abstract class LookupTable implements HashMapping {
  protected readonly members = new Set<Server>();
  private dirty = false;

  get size(): number {
    return this.members.size;
  }

  add(server: Server): void {
    this.members.add(server);
    this.dirty = true;
  }

  remove(server: Server): void {
    if (this.members.delete(server)) this.dirty = true;
  }

  reweight(): void {
    this.dirty = true;
  }

  owner(hash: number): Server | undefined {
    const n = this.fresh();
    return n === 0 ? undefined : this.slot(hash % n);
  }

  *walk(hash: number): Generator<Server> {
    const n = this.fresh();
    const seen = new Set<Server>();
    for (let k = 0, i = hash % n; k < n && seen.size < this.members.size; k++, i = i + 1 === n ? 0 : i + 1) {
      const s = this.slot(i);
      if (s && !seen.has(s)) {
        seen.add(s);
        yield s;
      }
    }
  }

  /** The table length after rebuilding it if anything changed. */
  protected fresh(): number {
    if (this.dirty) {
      this.dirty = false;
      this.rebuild();
    }
    return this.length;
  }

  protected abstract readonly length: number;
  protected abstract slot(i: number): Server | undefined;
  protected abstract rebuild(): void;
}
