export { AdminServer, type AdminServerEvents, type AdminServerOptions } from "./admin/admin.js";
export type { AdminAuth } from "./admin/auth.js";
export { type AdminCommand, parseCommand, type ServerChange } from "./admin/commands.js";
export type { Backend, Placed, QueueClient, ServerMeta } from "./backend.js";
export { type BatchedReads, batchedReads } from "./batch-reads.js";
export { CidrMap } from "./cidr.js";
export type {
  BackendOptions,
  BackendTimeouts,
  BindOption,
  ForwardForOptions,
  FrontendOptions,
  FrontendTimeouts,
  HealthCheckOptions,
  HttpRequestRule,
  HttpResponseRule,
  KeepAliveOptions,
  ResponseCondition,
  ResponseFacts,
  ServerOptions,
} from "./config.js";
export { ProxyConfigError, ProxyError } from "./errors.js";
export { ChunkedBody, ContentLengthBody, DEFAULT_CHUNKED_LIMITS } from "./http/body.js";
export { type HeaderRules, headerRules, serialiseRequest, serialiseResponse } from "./http/forward.js";
export { parseRequestHead } from "./http/request.js";
export { parseResponseHead } from "./http/response.js";
export { CANNED_STATUSES, type CannedStatus, cannedHeadLength, cannedResponse } from "./http/responses.js";
export { DEFAULT_HEAD_LIMITS, newHeadScan } from "./http/scan.js";
export type {
  BodyDecoder,
  ChunkedLimits,
  ForwardContext,
  Framing,
  HeaderRulesOptions,
  HeadLimits,
  HeadParse,
  HeadScan,
  MessageHead,
  RequestErrorStatus,
  RequestHead,
  ResponseContext,
  ResponseHead,
  TargetForm,
} from "./http/types.js";
export { AccessLog, type AccessLogOptions, type AdminLogEntry } from "./log/access-log.js";
export type { CaptureOptions } from "./log/capture.js";
export {
  type AccessRecord,
  accessJson,
  accessRecord,
  haproxyDate,
  httplog,
  type LogTimers,
  tcplog,
} from "./log/format.js";
export type { CookieOptions } from "./persist/cookie.js";
export { StickPeers, type StickPeersEvents, type StickPeersOptions } from "./persist/peers.js";
export { PEERS_HELLO } from "./persist/peers-codec.js";
export type { StickKeyFn, StickOn, StickOptions } from "./persist/stick.js";
export { type StickEntry, StickTable } from "./persist/stick-table.js";
export {
  bindsServer,
  hasRoom,
  nextWaiter,
  placeBound,
  type QueueHead,
  type SlotState,
  whenServerQueueFull,
} from "./placement.js";
export { type ProxyChangeEvent, type ProxyEvents, type ProxyOptions, ReverseProxy } from "./proxy.js";
export {
  crc32c,
  decodeProxyHeader,
  decodeV1,
  decodeV2,
  encodeV1,
  encodeV2,
  PP2_TYPE,
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyParse,
  type ProxyTlv,
  type ProxyTransport,
  V1_MAX,
  V2_DEFAULT_MAX,
  V2_SIGNATURE,
} from "./proxy-protocol/index.js";
export { type ClientPeer, proxyHeaderFor } from "./proxy-protocol/peer.js";
export { type Waiter, WaitQueue } from "./queue.js";
export { type NativeRelay, nativeRelay } from "./relay.js";
export {
  type Attempt,
  decideRetry,
  type FailureKind,
  isIdempotent,
  RETRY_ON,
  type RetryDecision,
  type RetryPolicy,
  roundRobinKind,
  TURN_AROUND_MAX,
  type TurnAroundFacts,
} from "./retry.js";
export {
  queryParam,
  type RequestFacts,
  type RouteMatch,
  type RouteRule,
  type Router,
  routes,
  type ValueMatch,
} from "./route.js";
export type { TransactionLog } from "./shell.js";
export {
  HISTOGRAM_BOUNDS,
  type Histogram,
  newTraffic,
  type Rate,
  rateOf,
  record,
  type Traffic,
} from "./stats/counters.js";
export { CSV_COLUMNS, renderCsv } from "./stats/csv.js";
export { type HtmlOptions, renderHtml } from "./stats/html.js";
export type { StatsOption } from "./stats/option.js";
export { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./stats/prometheus.js";
export {
  type BackendRow,
  type CheckInfo,
  type FrontendRow,
  type RowStatus,
  renderJson,
  type ServerRow,
  type StatsSnapshot,
} from "./stats/snapshot.js";
export { ProxyStats, type ProxyStatsOptions } from "./stats/stats.js";
export {
  type Cause,
  newTermination,
  note,
  type Phase,
  type Termination,
  type TxnEvent,
  terminationState,
} from "./termination.js";
export { MODERN_CIPHERS, type TlsCertificate, type TlsOptions } from "./tls/terminator.js";
export type { ServerTlsOptions } from "./tls/upstream.js";
