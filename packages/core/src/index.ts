/**
 * @lbkit/core — the shared toolkit of every lbkit package: injected time, the error family root and validators,
 * the runtime-error rule, the request-outcome seam, a heap, IP addresses and CIDR prefixes, the Internet checksum, libuv's TCP handle for lean data paths.
 * Test support (FakeTime, seeded random) is in `@lbkit/core/testing`.
 */
export { internetChecksum, onesComplementSum, pseudoHeader } from "./checksum.js";
export { type ErrorEmitter, emitError } from "./emit.js";
export {
  ConfigError,
  type ConfigErrorFields,
  configMessage,
  LbkitError,
  type LbkitErrorOptions,
  showValue,
} from "./errors.js";
export { type HeapNode, IndexedHeap } from "./heap.js";
export { moduleExports, packageDir } from "./interop.js";
export {
  type Cidr,
  cidrContains,
  compareIp,
  type Family,
  familyOf,
  formatIPv4,
  formatIPv6,
  formatIp,
  type IpAddress,
  parseCidr,
  parseIPv4,
  parseIPv6,
  parseIp,
  unmapIPv4,
} from "./ip.js";
export type { RequestOutcome } from "./outcome.js";
export { MAX_WEIGHT, SERVER_STATES, type ServerState } from "./server.js";
export {
  probeTcpWrap,
  processTcpWrapSource,
  type TcpHandle,
  type TcpReq,
  type TcpWrap,
  type TcpWrapProbe,
  type TcpWrapSource,
  tcpWrap,
  UV_EOF,
} from "./tcp-wrap.js";
export {
  type Clock,
  sleep,
  systemClock,
  systemTime,
  systemTimers,
  type Time,
  type TimerHandle,
  type Timers,
} from "./time.js";
export { type ConfigFail, closest, type Validators, validators } from "./validate.js";
