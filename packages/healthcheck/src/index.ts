export {
  type BindPoolOptions,
  bindPool,
  type HealthSource,
  MAX_WEIGHT,
  type PoolLike,
  weightFor,
} from "./bind/pool.js";
export {
  type PriorityState,
  PriorityTracker,
  type PriorityTrackerLike,
  priorityDelta,
  type StateSource,
  type TrackScript,
  trackPriority,
} from "./bind/vrrp-priority.js";
export { type AgentCheckOptions, agentCheck, parseAgentReply } from "./checkers/agent.js";
export type { ConnectionPhase, TlsOptions } from "./checkers/connection.js";
export { type CustomOutcome, customCheck } from "./checkers/custom.js";
export { type ExecCheckOptions, execCheck } from "./checkers/exec.js";
export { type HttpCheckOptions, httpCheck, parseStatus } from "./checkers/http.js";
export { type TcpCheckOptions, type TcpStep, tcpCheck } from "./checkers/tcp.js";
export { type Clock, systemClock, systemTimers, type Timers } from "./clock.js";
export type { AgentOptions, TargetOptions } from "./config.js";
export { effectiveState, type ServerState, type StateInputs } from "./effective.js";
export { HealthCheckConfigError } from "./errors.js";
export {
  type ChangeEvent,
  type CheckEvent,
  type CheckKind,
  CheckTimeoutError,
  HealthChecker,
  type HealthCheckerEvents,
  type HealthCheckerOptions,
  type MaxConnEvent,
  type TargetStatus,
  type WeightEvent,
} from "./health-checker.js";
export { type OutlierAction, OutlierDetector, type OutlierOptions, type OutlierReason } from "./outlier.js";
export {
  isError,
  type OnError,
  observe,
  type PassiveConfig,
  type PassiveOptions,
  type PassiveStep,
  passiveConfig,
  type TrafficOutcome,
} from "./passive.js";
export {
  type AgentReply,
  type CheckCode,
  type CheckContext,
  type Checker,
  type CheckResult,
  EXCERPT_MAX,
} from "./result.js";
export { CheckScheduler, type SchedulerOptions } from "./scheduler.js";
export {
  type HealthState,
  type InitState,
  type Intervals,
  initialState,
  interval,
  markDown,
  type Phase,
  phase,
  type RiseFall,
  record,
  type Step,
  suddenDeath,
} from "./state.js";
