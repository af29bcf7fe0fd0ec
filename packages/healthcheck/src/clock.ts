/** Injected time: pure code takes `now` as an argument; the shell reads it from a Clock. */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
}

/** Injected timers so the shell can run on fake time in tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = { now: () => performance.now() };

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
