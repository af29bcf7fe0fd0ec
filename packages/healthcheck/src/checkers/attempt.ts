/**
 * The skeleton every checker shares: one attempt, settled exactly once — by the checker's own verdict or by
 * the abort signal (the check timeout, `stop()`, `remove()`), after which what the attempt holds (a socket,
 * a child process) is released and the abort listener removed.
 */
import type { CheckContext, CheckResult } from "../result.js";

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

/** Runs `open(finish)`, which starts the attempt and returns its hooks; resolves with the first `finish`. */
export function attempt(
  ctx: CheckContext,
  open: (finish: (r: CheckResult) => void) => AttemptHooks,
): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    let done = false;
    let hooks: AttemptHooks | undefined;
    let signal: AbortSignal | undefined;
    const onAbort = () => {
      const r = hooks?.aborted();
      if (r) finish(r);
    };
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      signal?.removeEventListener("abort", onAbort);
      hooks?.release?.();
      resolve(r);
    };
    hooks = open(finish);
    if (done) {
      hooks.release?.(); // settled while opening
      return;
    }
    const hook = (ctx as Partial<AbortHook>)[ON_ABORT];
    if (hook) {
      if (!hook.call(ctx, onAbort)) onAbort();
      return;
    }
    signal = ctx.signal;
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
