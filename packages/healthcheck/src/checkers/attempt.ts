/**
 * The skeleton every checker shares: one attempt, settled exactly once — by the checker's own verdict or by
 * the abort signal (the check timeout, `stop()`, `remove()`), after which what the attempt holds (a socket,
 * a child process) is released and the abort listener removed.
 */
import type { CheckResult } from "../result.js";

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
  signal: AbortSignal,
  open: (finish: (r: CheckResult) => void) => AttemptHooks,
): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    let done = false;
    let hooks: AttemptHooks | undefined;
    const onAbort = () => {
      const r = hooks?.aborted();
      if (r) finish(r);
    };
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      hooks?.release?.();
      resolve(r);
    };
    hooks = open(finish);
    if (done) {
      hooks.release?.(); // settled while opening
      return;
    }
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
