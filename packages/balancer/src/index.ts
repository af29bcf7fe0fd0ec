// defined once in @lbkit/core, re-exported for convenience
export { MAX_WEIGHT, type ServerState } from "@lbkit/core";
export type { Algorithm, AlgorithmEnv, AlgorithmFactory, ObservedOutcome } from "./algorithm.js";
export { first } from "./algorithms/first.js";
export {
  boundedLoad,
  HASH_TYPES,
  type HashKeyOptions,
  type HashOptions,
  type HashType,
  hash,
  hdr,
  jumpHash,
  ketama,
  maglev,
  rdpCookie,
  source,
  uri,
  urlParam,
} from "./algorithms/hashed.js";
export type { HdrKeyOptions, KeyFn, UriKeyOptions } from "./algorithms/keys.js";
export { leastConn } from "./algorithms/leastconn.js";
export { type PeakEwmaOptions, peakEwma } from "./algorithms/peak-ewma.js";
export { p2c, type RandomOptions, random } from "./algorithms/random.js";
export { roundRobin, staticRoundRobin } from "./algorithms/roundrobin.js";
export type { HeaderSource, PickContext } from "./context.js";
export { BalancerConfigError, BalancerError, type BalancerErrorCode } from "./errors.js";
export { ALGORITHM_NAMES, parseAlgorithm } from "./parse.js";
export {
  type Lease,
  type NoServerAvailable,
  type PickResult,
  Pool,
  type PoolOptions,
  type PoolStats,
} from "./pool.js";
export type { Server, ServerSpec, ServerStats } from "./server.js";
export { rampWeight } from "./slow-start.js";
