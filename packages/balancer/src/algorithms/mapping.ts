import type { Server } from "../server.js";

/**
 * How a hash value maps to servers: map-based (ranges), Ketama ring, Maglev table, jump hash.
 * `walk` gives the owner first, then distinct further servers in the mapping's own order (next ring points,
 * next table entries, the next jump attempt), which is what retries and bounded load step through.
 * `owner` and `walk` give only servers the mapping currently holds.
 */
export interface HashMapping {
  readonly size: number;
  add(server: Server): void;
  remove(server: Server): void;
  reweight(server: Server): void;
  owner(hash: number): Server | undefined;
  walk(hash: number): Iterable<Server>;
  /** Advances deferred work (a table or ring being rebuilt) by about `budget` units; called on each pick. */
  work?(budget: number): void;
  /** Completes all deferred work now. */
  settle?(): void;
}
