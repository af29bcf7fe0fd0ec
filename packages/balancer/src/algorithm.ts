import type { Clock, RequestOutcome } from "@lbkit/core";
import type { PickContext } from "./context.js";
import { configError } from "./errors.js";
import type { Server } from "./server.js";

/** A finished request as the pool hands it to `observe`: the caller's outcome, with `latencyMs` always set. */
export type ObservedOutcome = RequestOutcome & { latencyMs: number };

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
  /**
   * Finish any deferred work now (a lookup table being rebuilt in slices). The pool calls it at the end of its
   * constructor and in `pool.rebalance()`.
   */
  settle?(): void;
  /** A request on the server finished (`ok: false` when it failed). */
  observe?(server: Server, outcome: ObservedOutcome): void;
}

/** Creates one algorithm instance per pool tier. */
export interface AlgorithmFactory {
  readonly name: string;
  create(env: AlgorithmEnv): Algorithm;
}

const REQUIRED = ["add", "remove", "pick"] as const;
const OPTIONAL = ["reweight", "fallbacks", "loadChanged", "observe", "settle"] as const;

/** A custom algorithm is checked when the pool is built, not at its first pick. */
export function checkAlgorithm(algorithm: unknown, name: string): Algorithm {
  if (typeof algorithm !== "object" || algorithm === null)
    throw configError(
      "algorithm",
      name,
      `create(env) returned ${String(algorithm)}, not an algorithm object`,
    );
  const a = algorithm as Record<string, unknown>;
  const missing = REQUIRED.filter((m) => typeof a[m] !== "function");
  if (missing.length)
    throw configError(
      "algorithm",
      name,
      `must implement ${missing.map((m) => `${m}()`).join(", ")} (an algorithm needs add, remove and pick functions)`,
    );
  for (const m of OPTIONAL)
    if (a[m] !== undefined && typeof a[m] !== "function")
      throw configError("algorithm", name, `${m} must be a function when given, not ${typeof a[m]}`);
  return algorithm as Algorithm;
}
