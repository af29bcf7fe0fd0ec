import type { Server } from "../server.js";
import { LookupTable } from "./mapping.js";
import { SmoothRoundRobin } from "./roundrobin.js";

/**
 * HAProxy's default `hash-type map-based`: a table where each server appears as often as its weight, and a key
 * goes to entry `hash mod total weight`. Perfectly weighted and cheap, but not consistent: any change in
 * membership or weight remaps most keys. The table is rebuilt lazily on the first lookup after changes.
 */
export class MapBased extends LookupTable {
  private table: Server[] = [];

  protected get length(): number {
    return this.table.length;
  }

  protected slot(i: number): Server | undefined {
    return this.table[i];
  }

  protected rebuild(): void {
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
