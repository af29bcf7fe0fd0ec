/**
 * Local stand-ins for @lbkit/core's Clock, Timers and RequestOutcome until core lands on main; replaced by the
 * core imports on merge. Keep the shapes identical to core's.
 */

/** Milliseconds on a monotonic scale (only differences matter). */
export interface Clock {
  now(): number;
}

/** Injected timers so the shells can run on fake time in tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = { now: () => performance.now() };

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** How one request ended, reported once to the pool lease and to passive health. */
export interface RequestOutcome {
  ok: boolean;
  latencyMs?: number;
  status?: number;
  code?: string;
}
