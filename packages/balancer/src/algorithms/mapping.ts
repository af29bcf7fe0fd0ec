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
