/**
 * Checks in flight: each runs its checker with an `AbortSignal`, is aborted at its timeout, and is abandoned
 * (result `TIMEOUT`) if the checker has not settled `abortGrace` later. Deadlines sit in one DueQueue, so the shell
 * needs no timer per check: it asks `nextDeadline()` and calls `expire(now)` from its single wake timer.
 * A flight cancelled by `stop()`/`remove()` is forgotten at once; `drained()` says when those have settled.
 */
import type { Clock } from "@lbkit/core";
import { type AbortHook, ON_ABORT, RUN, type Runnable } from "./checkers/attempt.js";
import { DueQueue } from "./due-queue.js";
import { HealthCheckError } from "./errors.js";
import { type CheckContext, type Checker, type CheckResult, down } from "./result.js";

/**
 * One check in flight, and the `CheckContext` its checker gets. Its `signal` is made only when a checker reads
 * it; the built-in checkers register through the internal `ON_ABORT` hook instead (no AbortController and no
 * EventTarget listener per check).
 */
export class Flight<S> implements CheckContext, AbortHook {
  /** The timeout, then (once aborted) the end of the grace period. */
  deadline: number;
  graced = false;
  /** The checker's verdict (or failure) arrived. */
  settled = false;
  heapPos = -1;
  private controller: AbortController | undefined;
  private onAbort: (() => void) | undefined;
  private reason: unknown;
  aborted = false;

  constructor(
    readonly slot: S,
    readonly started: number,
    readonly timeout: number,
  ) {
    this.deadline = started + timeout;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason());
    }
    return this.controller.signal;
  }

  /** The reason is made when a signal needs it (an error's stack per timed-out check costs, under overload). */
  private abortReason(): unknown {
    if (typeof this.reason === "function") this.reason = (this.reason as () => unknown)();
    return this.reason;
  }

  [ON_ABORT](fn: () => void): boolean {
    if (this.aborted) return false;
    this.onAbort = fn;
    return true;
  }

  /** `reason`: the abort reason, or a function that makes it. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    if (this.controller) this.controller.abort(this.abortReason());
    const fn = this.onAbort;
    this.onAbort = undefined;
    fn?.();
  }
}

export interface FlightEvents<S> {
  /** The check's verdict (or the abandonment's), once per flight that was not cancelled. */
  result(slot: S, result: CheckResult, duration: number): void;
  /** A checker that rejected or ignored its abort: what it did (the shell names the target). */
  error(slot: S, code: "ERR_CHECKER" | "ERR_CHECK_ABANDONED", what: string, cause?: unknown): void;
}

export class Flights<S extends { flight: Flight<S> | undefined }> {
  private readonly deadlines = new DueQueue<Flight<S>>((a, b) => a.deadline < b.deadline);
  /** Cancelled flights whose checkers have not settled yet. */
  private draining = 0;
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly abortGrace: number,
    private readonly on: FlightEvents<S>,
  ) {}

  get size(): number {
    return this.deadlines.size;
  }

  /** Start `checker` for `slot` (which must have no flight). */
  launch(slot: S, checker: Checker, timeout: number, now: number): void {
    const flight = new Flight(slot, now, timeout);
    slot.flight = flight;
    this.deadlines.push(flight);
    const run = (checker as Partial<Runnable>)[RUN];
    if (run !== undefined) {
      try {
        run.call(checker, flight, (result) => this.settle(flight, result));
      } catch (err) {
        this.settle(flight, undefined, err);
      }
      return;
    }
    let p: Promise<CheckResult>;
    try {
      p = checker(flight);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (result) => this.settle(flight, result),
      (err: unknown) => this.settle(flight, undefined, err),
    );
  }

  /** Abort `slot`'s flight with `reason` and forget it: its result, when it comes, is ignored. */
  cancel(slot: S, reason: HealthCheckError): void {
    const f = slot.flight;
    if (!f) return;
    slot.flight = undefined;
    this.deadlines.remove(f);
    this.draining++;
    f.abort(reason);
  }

  /** When `expire` next has something to do. */
  nextDeadline(): number | undefined {
    return this.deadlines.peek()?.deadline;
  }

  /** Abort flights past their timeout; abandon those still running `abortGrace` after it. */
  expire(now: number): void {
    for (;;) {
      const f = this.deadlines.peek();
      if (!f || f.deadline > now) return;
      if (!f.graced) {
        f.graced = true;
        f.deadline = now + this.abortGrace;
        this.deadlines.update(f);
        f.abort(
          () =>
            new HealthCheckError("ERR_CHECK_TIMEOUT", `healthcheck: check timed out after ${f.timeout} ms`),
        );
        continue;
      }
      this.deadlines.remove(f);
      f.slot.flight = undefined;
      this.draining++; // the checker may still settle
      this.on.error(
        f.slot,
        "ERR_CHECK_ABANDONED",
        `ignored its abort for ${this.abortGrace} ms after its ${f.timeout} ms timeout and was abandoned (a checker must settle promptly when its signal aborts)`,
      );
      this.on.result(
        f.slot,
        down("TIMEOUT", `no result within timeout ${f.timeout} ms (checker ignored the abort)`),
        now - f.started,
      );
    }
  }

  /** Resolves once every cancelled or abandoned flight has settled. */
  drained(): Promise<void> {
    if (this.draining === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.onDrained;
      this.onDrained = () => {
        prev?.();
        resolve();
      };
    });
  }

  private settle(f: Flight<S>, result: CheckResult | undefined, err?: unknown): void {
    if (f.settled) return;
    f.settled = true;
    if (f.slot.flight !== f) {
      // cancelled or abandoned earlier
      if (--this.draining === 0 && this.onDrained) {
        const fn = this.onDrained;
        this.onDrained = undefined;
        fn();
      }
      return;
    }
    f.slot.flight = undefined;
    this.deadlines.remove(f);
    if (result === undefined) {
      const msg = err instanceof Error ? err.message : String(err);
      const aborted = f.aborted;
      if (!aborted) {
        this.on.error(
          f.slot,
          "ERR_CHECKER",
          `rejected (${msg}) instead of resolving a result; the check counts as failed`,
          err,
        );
      }
      result = down(aborted ? "TIMEOUT" : "ERROR", `checker failed: ${msg}`);
    }
    this.on.result(f.slot, result, this.clock.now() - f.started);
  }
}
