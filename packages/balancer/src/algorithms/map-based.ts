import type { Server } from "../server.js";
import type { HashMapping } from "./mapping.js";
import { SmoothRoundRobin } from "./roundrobin.js";

/**
 * HAProxy's default `hash-type map-based`: a table where each server appears as often as its weight, and a key
 * goes to entry `hash mod total weight`. Perfectly weighted and cheap, but not consistent: any change in
 * membership or weight remaps most keys. The table is rebuilt lazily on the first lookup after changes.
 */
export class MapBased implements HashMapping {
  private readonly members = new Set<Server>();
  private table: Server[] = [];
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
    this.build();
    return this.table[hash % this.table.length];
  }

  *walk(hash: number): Generator<Server> {
    this.build();
    const n = this.table.length;
    const seen = new Set<Server>();
    for (let k = 0, i = hash % n; k < n && seen.size < this.members.size; k++, i = (i + 1) % n) {
      const s = this.table[i]!;
      if (!seen.has(s)) {
        seen.add(s);
        yield s;
      }
    }
  }

  private build(): void {
    if (!this.dirty) return;
    this.dirty = false;
    // one period of smooth weighted round-robin: each server `weight` times, neighbours mostly distinct
    const rotation = new SmoothRoundRobin();
    let total = 0;
    for (const s of [...this.members].sort((a, b) => a.order - b.order)) {
      rotation.add(s);
      total += s.effectiveWeight;
    }
    const table: Server[] = new Array(total);
    for (let k = 0; k < total; k++) table[k] = rotation.pick()!;
    this.table = table;
  }
}
