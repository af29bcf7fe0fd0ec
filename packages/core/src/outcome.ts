/**
 * The request-outcome seam: what a proxy (or any caller) learns about one request to one server. It reports it
 * once, to both the balancer (`lease.release(outcome)`: leastconn, peak-EWMA) and passive health
 * (`healthChecker.observe(id, outcome)`: error limits, outlier detection), which both accept this shape.
 */
export interface RequestOutcome {
  /** false when the request failed because of the server (connect error, timeout, reset, 5xx as configured) */
  ok: boolean;
  /** time to the response (or to the failure), ms; measured by the receiver when absent */
  latencyMs?: number;
  /** the HTTP status, when there was a response */
  status?: number;
  /** why it failed, when it did: a system error code (`ECONNREFUSED`, `ECONNRESET`) or `timeout`, `bad-response` */
  code?: string;
}
