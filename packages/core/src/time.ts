/**
 * Injected time. Pure code takes `now` as an argument; shells read it from a `Clock` and arm every timer through
 * `Timers`, so that tests run them on `FakeTime` (from `@lbkit/core/testing`).
 */

import { performance } from "node:perf_hooks";

/** Milliseconds on a monotonic scale (only differences matter). */
export interface Clock {
  now(): number;
}

/** Timer handles are opaque: pass back to `clearTimeout` only what `setTimeout` returned. */
export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A clock and its timers, as most shells take them: `{ time: systemTime }` or `{ time: new FakeTime() }`. */
export type Time = Clock & Timers;

/**
 * `performance.now()`: monotonic, sub-millisecond. Imported rather than read from the global: `globalThis.performance`
 * is a lazy accessor that every read goes through (about 30 ns more per call, on Node 20), and a proxy reads this
 * clock at least once per I/O callback.
 */
export const systemClock: Clock = { now: () => performance.now() };

/** The global timers. Handles are unref'd never: a shell that must not hold the process open unrefs itself. */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** `systemClock` and `systemTimers` together. */
export const systemTime: Time = {
  now: systemClock.now,
  setTimeout: systemTimers.setTimeout,
  clearTimeout: systemTimers.clearTimeout,
};

/**
 * Resolves after `ms` on the given timers; rejects with `signal.reason` if the signal aborts first (the timer is
 * cleared then).
 */
export function sleep(timers: Timers, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      timers.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
