/**
 * Pure retry and redispatch decisions (HAProxy `retries`, `option redispatch <interval>`,
 * `retry-on conn-failure empty-response response-timeout`).
 */

export type FailureKind = "conn-failure" | "empty-response" | "response-timeout";
export const RETRY_ON: readonly FailureKind[] = ["conn-failure", "empty-response", "response-timeout"];

export interface RetryPolicy {
  /** HAProxy `retries`: further attempts after the first. Default 3. */
  retries: number;
  /**
   * HAProxy `option redispatch <interval>`: 0 off (retries stay on the same server); P > 0 redispatch to another
   * server on every P-th retry; N < 0 on the |N|-th retry before the last (-1, HAProxy's default, the last).
   */
  redispatch: number;
  retryOn: ReadonlySet<FailureKind>;
}

/** RFC 9110 §9.2.2 idempotent methods. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

export interface Attempt {
  /** Retries done so far (0 after the first attempt failed). */
  retriesDone: number;
  failure: FailureKind;
  /** Some byte of the request reached (was written to) the server. */
  requestSent: boolean;
  idempotent: boolean;
  /** The request can be replayed (its bytes were kept: no body, or a body small enough to keep). */
  replayable: boolean;
}

export type RetryDecision = { retry: false } | { retry: true; redispatch: boolean };

export function decideRetry(p: RetryPolicy, a: Attempt): RetryDecision {
  if (a.retriesDone >= p.retries) return { retry: false };
  if (!p.retryOn.has(a.failure)) return { retry: false };
  // a request that reached the server may be processed twice: only idempotent ones, and only when we still hold them
  if (a.requestSent && !(a.idempotent && a.replayable)) return { retry: false };
  if (a.failure !== "conn-failure" && !a.replayable) return { retry: false };
  const n = a.retriesDone + 1; // the retry about to happen, 1-based
  let redispatch = false;
  if (p.redispatch > 0) redispatch = n % p.redispatch === 0;
  else if (p.redispatch < 0) redispatch = n === Math.max(1, p.retries + 1 + p.redispatch);
  return { retry: true, redispatch };
}
