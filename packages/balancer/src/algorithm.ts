import type { PickContext } from "./context.js";
import type { Server } from "./server.js";

/** Milliseconds, monotonic. Injected so slow start and latency decay are testable with fake time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

/** How a request on a server ended. `latencyMs` defaults to the time since `acquire`. */
export interface Outcome {
  ok?: boolean;
  latencyMs?: number;
}

/** What a pool lends its algorithms. */
export interface AlgorithmEnv {
  clock: Clock;
  /** Uniform in [0, 1). Injected for reproducible tests. */
  random: () => number;
  /** Look a server up by id or persistence cookie, whatever its state (for cookie persistence). */
  lookup(id: string): Server | undefined;
  byCookie(value: string): Server | undefined;
}

/**
 * A load-balancing algorithm over one tier of a pool (primaries, or backups). The pool hands it only usable
 * servers (state up, effective weight above 0) and tells it of every change, so `pick` never has to filter.
 *
 * Write your own by implementing `add`, `remove` and `pick`; the rest is optional. The pool turns `pick` plus
 * `fallbacks` into the ordered candidate list that retries and redispatch walk, completing it with every other
 * usable server, so a custom algorithm works with retries, backups and maxConn as the built-in ones do.
 */
export interface Algorithm {
  readonly name: string;
  /**
   * Weights are taken as they are when a server joins (HAProxy's static algorithms: static-rr, map-based
   * hashing; also Maglev here, whose table is rebuilt on every change): the pool then skips slow start.
   */
  readonly staticWeights?: boolean;
  add(server: Server): void;
  remove(server: Server): void;
  /** The server's effective weight changed (it stays usable). Default: remove + add. */
  reweight?(server: Server, previous: number): void;
  /** The first choice for this request. Undefined only when the algorithm holds no server. */
  pick(ctx: PickContext): Server | undefined;
  /** Distinct further choices after `first`, best first (e.g. the next points on a hash ring). */
  fallbacks?(ctx: PickContext, first: Server): Iterable<Server>;
  /** In-flight count of a server changed (acquire or release). */
  loadChanged?(server: Server): void;
  /** A request on the server finished. */
  observe?(server: Server, outcome: Required<Outcome>): void;
}

/** Creates one algorithm instance per pool tier. */
export interface AlgorithmFactory {
  readonly name: string;
  create(env: AlgorithmEnv): Algorithm;
}
