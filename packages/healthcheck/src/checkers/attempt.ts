/**
 * The skeleton every checker shares: one attempt, settled exactly once — by the checker's own verdict or by
 * the abort signal (the check timeout, `stop()`, `remove()`), after which what the attempt holds (a socket,
 * a child process) is released and the abort listener removed.
 */
import type { CheckContext, Checker, CheckResult } from "../result.js";

/**
 * The health checker's contexts offer this (internal) hook besides `signal`: register the one function to call
 * on abort; false when already aborted. It spares the built-in checkers an AbortController and an EventTarget
 * listener per check; a checker given a plain `{ signal, timeout }` uses the signal.
 */
export const ON_ABORT: unique symbol = Symbol("healthcheck.onAbort");
export interface AbortHook {
  [ON_ABORT](fn: () => void): boolean;
}

export interface AttemptHooks {
  /**
   * The signal aborted: the result to settle with now, or undefined when the attempt settles itself later
   * (exec kills its process group and settles when the command has exited).
   */
  aborted(): CheckResult | undefined;
  /** Release what the attempt holds; called once, when it settles. */
  release?(): void;
}

/**
 * The built-in checkers' callback form (internal), which the health checker calls instead of the function: the
 * same attempt without a Promise and its `then` per check.
 */
export const RUN: unique symbol = Symbol("healthcheck.run");
export interface Runnable {
  [RUN](ctx: CheckContext, done: (r: CheckResult) => void): void;
}

type Open = (finish: (r: CheckResult) => void) => AttemptHooks;

/** Runs `open(finish)`, which starts the attempt and returns its hooks; resolves with the first `finish`. */
export function attempt(ctx: CheckContext, open: Open): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => runAttempt(ctx, open, resolve));
}

/** A checker of one `open` per attempt, callable as a function (a Promise) and through {@link RUN}. */
export function attemptChecker(open: Open): Checker & Runnable {
  const checker = ((ctx: CheckContext) => attempt(ctx, open)) as Checker & Runnable;
  checker[RUN] = (ctx, done) => runAttempt(ctx, open, done);
  return checker;
}

/** {@link attempt} calling `done` with the first `finish`. */
export function runAttempt(ctx: CheckContext, open: Open, done: (r: CheckResult) => void): void {
  let settled = false;
  let hooks: AttemptHooks | undefined;
  let signal: AbortSignal | undefined;
  const onAbort = () => {
    const r = hooks?.aborted();
    if (r) finish(r);
  };
  const finish = (r: CheckResult) => {
    if (settled) return;
    settled = true;
    signal?.removeEventListener("abort", onAbort);
    hooks?.release?.();
    done(r);
  };
  hooks = open(finish);
  if (settled) {
    hooks.release?.(); // settled while opening
    return;
  }
  const hook = (ctx as Partial<AbortHook>)[ON_ABORT];
  if (hook) {
    if (!hook.call(ctx, onAbort)) onAbort();
    return;
  }
  signal = ctx.signal;
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
}
