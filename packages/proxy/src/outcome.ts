import type { RequestOutcome } from "@lbkit/core";

/**
 * A request's outcome for `Backend.finish`, always the same four fields in the same order (absent ones
 * undefined, which every reader treats as absent). The release path (the balancer's lease, passive health)
 * then meets one object shape, so V8 does not throw its optimised code away when a rare outcome (a reset, a
 * client abort) follows a run of ordinary ones.
 */
export function outcome(
  ok: boolean,
  status: number | undefined,
  code: string | undefined,
  latencyMs?: number,
): RequestOutcome {
  return { ok, latencyMs, status, code };
}
