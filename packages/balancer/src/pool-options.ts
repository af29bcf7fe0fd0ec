import { type Clock, systemClock } from "@lbkit/core";
import type { AlgorithmFactory } from "./algorithm.js";
import { roundRobin } from "./algorithms/roundrobin.js";
import { check, configError } from "./errors.js";
import { parseAlgorithm } from "./parse.js";
import type { ServerSpec } from "./server.js";

export interface PoolOptions<M = unknown> {
  servers?: readonly ServerSpec<M>[];
  /** An algorithm factory (`leastConn()`, `maglev({ key })`, your own) or HAProxy's `balance` words ("leastconn", "uri depth 2", "hdr(host)"). Default roundrobin. */
  algorithm?: string | AlgorithmFactory;
  /** HAProxy `slowstart` in ms for every server (a server's own `slowStart` wins). Default 0: off. */
  slowStart?: number;
  /** HAProxy `option allbackups`: balance over every backup instead of using the first one only. */
  allBackups?: boolean;
  /** Cookie persistence (HAProxy `cookie <name>`): a request carrying this cookie goes to the server whose `cookie` value it names, while that server is up or draining. */
  cookie?: string;
  /** Where time comes from (slow start, latency decay): only `now()` is read; the pool arms no timers. Default core's `systemClock`. */
  clock?: Clock;
  /** Uniform in [0, 1), for the random algorithms. Default `Math.random`. */
  random?: () => number;
}

const POOL_OPTIONS: ReadonlySet<string> = new Set([
  "servers",
  "algorithm",
  "slowStart",
  "allBackups",
  "cookie",
  "clock",
  "random",
]);

/** Pool options checked, with their defaults filled in. */
export interface PoolConfig<M> {
  servers: readonly ServerSpec<M>[];
  algorithm: AlgorithmFactory;
  slowStart: number;
  allBackups: boolean;
  cookie: string | undefined;
  clock: Clock;
  random: () => number;
}

/** Validates pool options (a bad one throws BalancerConfigError naming it) and fills in the defaults. */
export function readPoolOptions<M>(options: PoolOptions<M>): PoolConfig<M> {
  check.object("", options, POOL_OPTIONS);
  const algorithm =
    typeof options.algorithm === "string"
      ? parseAlgorithm(options.algorithm)
      : (options.algorithm ?? roundRobin());
  if (typeof algorithm !== "object" || algorithm === null || typeof algorithm.create !== "function")
    throw configError(
      "algorithm",
      options.algorithm,
      'must be an algorithm name ("leastconn", "uri depth 2") or a factory { name, create(env) }',
    );
  if (options.clock !== undefined && typeof options.clock?.now !== "function")
    throw configError("clock", options.clock, "must have a now() method returning milliseconds");
  if (options.random !== undefined && typeof options.random !== "function")
    throw configError("random", options.random, "must be a function returning a number in [0, 1)");
  if (options.servers !== undefined && !Array.isArray(options.servers))
    throw configError("servers", options.servers, "must be an array of { id, weight?, … }");
  return {
    servers: options.servers ?? [],
    algorithm,
    slowStart:
      options.slowStart === undefined ? 0 : check.ms("slowStart", options.slowStart, 0, undefined, "0 = off"),
    allBackups: options.allBackups === undefined ? false : check.bool("allBackups", options.allBackups),
    cookie:
      options.cookie === undefined ? undefined : check.string("cookie", options.cookie, "a cookie name"),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
  };
}
