/**
 * HAProxy's two-letter termination state, computed from a transaction's events (pure).
 * First letter, who or what ended it: `C` client abort, `S` server abort/refusal/invalid response, `P` the proxy
 * (deny, return, redirect, bad request), `R` a resource limit (queue full, no server), `I` internal error,
 * `D` the server went down, `K` killed by the operator, `c` client-side timeout, `s` server-side timeout,
 * `-` normal end. Second letter, the phase at that moment: `R` waiting for the request, `Q` queued,
 * `C` connecting, `H` waiting for the response headers, `D` data, `L` sending the last data, `T` tarpit,
 * `-` normal end.
 */

export type Phase = "R" | "Q" | "C" | "H" | "D" | "L" | "T";
export type Cause = "-" | "C" | "S" | "P" | "R" | "I" | "D" | "K" | "c" | "s";

export interface Termination {
  phase: Phase;
  /** The first abnormal cause seen; later ones don't overwrite it. */
  cause: Cause;
}

export type TxnEvent =
  | "queued"
  | "connecting"
  | "request-sent" // the request head went out: from now on waiting for the response headers (HAProxy counts a
  //                  request body still being uploaded as this phase too: test/proxy-haproxy)
  | "response-head"
  | "server-done" // the server's response is complete; the proxy is flushing the last data to the client
  | "tunnel"
  | "client-abort"
  | "client-timeout"
  | "server-abort"
  | "server-timeout"
  | "bad-response"
  | "proxy"
  | "resource"
  | "internal"
  | "killed";

/** An instance, not a literal: a session keeps its termination as long as it lives (see close-hooks.ts). */
class TerminationState implements Termination {
  phase: Phase = "R";
  cause: Cause = "-";
}

export function newTermination(): Termination {
  return new TerminationState();
}

/** Back to a fresh transaction's state: a connection keeps one termination for all its requests. */
export function resetTermination(t: Termination): Termination {
  t.phase = "R";
  t.cause = "-";
  return t;
}

/** Applies one event; returns the same object. */
export function note(t: Termination, e: TxnEvent): Termination {
  switch (e) {
    case "queued":
      t.phase = "Q";
      return t;
    case "connecting":
      t.phase = "C";
      return t;
    case "request-sent":
      t.phase = "H";
      return t;
    case "response-head":
    case "tunnel":
      t.phase = "D";
      return t;
    case "server-done":
      t.phase = "L";
      return t;
    default:
      if (t.cause === "-") t.cause = CAUSE[e];
      return t;
  }
}

const CAUSE: Record<
  Exclude<TxnEvent, "queued" | "connecting" | "request-sent" | "response-head" | "server-done" | "tunnel">,
  Cause
> = {
  "client-abort": "C",
  "client-timeout": "c",
  "server-abort": "S",
  "server-timeout": "s",
  "bad-response": "P",
  proxy: "P",
  resource: "R",
  internal: "I",
  killed: "K",
};

/** The two letters: `--` for a transaction that ended normally. */
export function terminationState(t: Termination): string {
  if (t.cause === "-") return "--";
  return t.cause + t.phase;
}
