/**
 * Pure retry and redispatch decisions (HAProxy `retries`, `option redispatch <interval>`,
 * `retry-on conn-failure empty-response response-timeout`), and HAProxy's turn-around: after a connection
 * attempt failed with an error (refused, reset — not a timeout), a retry that will likely reach the same server
 * waits min(`timeout connect`, 1 s) first (back_handle_st_cer), so a dead server is not hammered. Time is injected.
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
  /** What the turn-around needs to know; without it a retry never waits. */
  turnAround?: TurnAroundFacts;
}

/** The facts of a failed connection attempt that decide the turn-around. */
export interface TurnAroundFacts {
  now: number;
  /** The backend's `timeout connect`, ms. */
  connectTimeout: number;
  /** The attempt ended with an error (refused, reset), not with `timeout connect`. */
  error: boolean;
  /** The failed connection was a reused keep-alive one (no wait: the server may well be fine). */
  reused: boolean;
  /** The algorithm is round-robin-like (HAProxy's BE_LB_KIND_RR: roundrobin, static-rr). */
  roundRobin: boolean;
  /** Usable active servers in the backend. */
  activeServers: number;
  /**
   * The request was sent to this server by persistence (a cookie or stick entry: HAProxy's SF_DIRECT), so a retry
   * must not move it just because the algorithm is round-robin. Absent: false.
   */
  direct?: boolean;
  /** The failed server is no longer running (down or in maintenance): a retry leaves it. Absent: false. */
  serverDown?: boolean;
}

/** HAProxy's longest turn-around, ms. */
export const TURN_AROUND_MAX = 1000;

/** `at`: the retry waits until then (the turn-around); absent, it goes at once. */
export type RetryDecision = { retry: false } | { retry: true; redispatch: boolean; at?: number };

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
  const t = a.turnAround;
  // HAProxy (sess_update_st_cer): with `option redispatch`, a retry also leaves a server that is no longer running,
  // and a request not bound by persistence on a round-robin backend with more than one usable server is
  // redispatched on every retry ("we don't care about this particular server"), without the turn-around
  if (
    !redispatch &&
    p.redispatch !== 0 &&
    t !== undefined &&
    (t.serverDown === true || (t.direct !== true && t.roundRobin && t.activeServers > 1))
  )
    redispatch = true;
  // only after an error on a fresh connection, and only when the retry will likely meet the same server
  if (
    t !== undefined &&
    a.failure === "conn-failure" &&
    t.error &&
    !t.reused &&
    (!redispatch || !t.roundRobin || t.activeServers <= 1)
  ) {
    const delay = t.connectTimeout > 0 ? Math.min(t.connectTimeout, TURN_AROUND_MAX) : TURN_AROUND_MAX;
    return { retry: true, redispatch, at: t.now + delay };
  }
  return { retry: true, redispatch };
}

/** The `balance` is round-robin-like for the turn-around (HAProxy's BE_LB_KIND_RR). */
export function roundRobinKind(balance: string | { readonly name: string }): boolean {
  const name = typeof balance === "string" ? balance : balance.name;
  return /^\s*(roundrobin|static-rr)\b/.test(name);
}
