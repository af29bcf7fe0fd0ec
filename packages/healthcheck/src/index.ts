/**
 * @lbkit/healthcheck — active (tcp, http, exec, agent, custom) and passive health checking with HAProxy's
 * rise/fall semantics, driving pools (`bindPool`) and VRRP priority (`PriorityTracker`).
 */
export {
  type BindPoolOptions,
  bindPool,
  type HealthSource,
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
} from "./bind/vrrp-priority.js";
export { type AgentCheckOptions, agentCheck, parseAgentReply } from "./checkers/agent.js";
export type { ConnectionPhase, TlsOptions } from "./checkers/connection.js";
export { type CustomOutcome, customCheck } from "./checkers/custom.js";
export { type ExecCheckOptions, execCheck } from "./checkers/exec.js";
export { type HttpCheckOptions, httpCheck, parseStatus } from "./checkers/http.js";
export { type LdapCheckOptions, ldapCheck } from "./checkers/ldap.js";
export { type MysqlCheckOptions, mysqlCheck } from "./checkers/mysql.js";
export { type PgsqlCheckOptions, pgsqlCheck } from "./checkers/pgsql.js";
export { type QuietConnects, quietConnects } from "./checkers/quiet-socket.js";
export { type RedisCheckOptions, redisCheck } from "./checkers/redis.js";
export { type SmtpCheckOptions, smtpCheck } from "./checkers/smtp.js";
export { type SslHelloCheckOptions, sslHelloCheck } from "./checkers/ssl-hello.js";
export { type TcpCheckOptions, type TcpStep, tcpCheck } from "./checkers/tcp.js";
export { type CheckTransport, checkTransport } from "./checkers/tcp-handle.js";
export type { AgentOptions, TargetOptions } from "./config.js";
export { effectiveState, type StateInputs } from "./effective.js";
export { HealthCheckConfigError, HealthCheckError, type HealthCheckErrorCode } from "./errors.js";
export type {
  ChangeCode,
  ChangeEvent,
  CheckEvent,
  CheckKind,
  HealthCheckerEvents,
  MaxConnEvent,
  TargetStatus,
  WeightEvent,
} from "./events.js";
export { HealthChecker } from "./health-checker.js";
export type { HealthCheckerOptions } from "./options.js";
export { type OutlierAction, OutlierDetector, type OutlierOptions, type OutlierReason } from "./outlier.js";
export {
  isPassiveError,
  type OnError,
  type PassiveConfig,
  type PassiveOptions,
  type PassiveStep,
  passiveConfig,
  passiveStep,
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
  checkInterval,
  type HealthPhase,
  type HealthState,
  type HealthStep,
  healthPhase,
  type InitState,
  type Intervals,
  initialHealth,
  markDown,
  type RiseFall,
  recordCheck,
  suddenDeath,
} from "./state.js";
