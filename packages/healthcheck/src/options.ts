/** The `HealthChecker` options, their defaults, and their validation (at construction). */
import { systemTime, type Time } from "@lbkit/core";
import { HealthCheckConfigError, v } from "./errors.js";
import { OutlierDetector, type OutlierOptions } from "./outlier.js";

export interface HealthCheckerOptions {
  /** Most checks in flight at once. Default 1000 (enough for 10,000 targets at 1 s with fast backends). */
  concurrency?: number;
  /** HAProxy `spread-checks`: ±percent randomisation of every interval, 0..50. Default 0. */
  spread?: number;
  /** After aborting a check at its timeout, how long the checker gets to settle before it is abandoned. */
  abortGrace?: number;
  /**
   * Most checks started in one event-loop turn; the rest start on the next turn, after the I/O that came in
   * meanwhile, so that a burst of due checks (after the loop was held up) does not block the loop (connect() on
   * loopback is synchronous work: ~64 connects take 2–3 ms). Default 64.
   */
  batch?: number;
  /**
   * Checks start in ticks of this many ms: one wake of the event loop starts every check due within the tick
   * (and handles every timeout), instead of one wake per check. A check starts at most `tick` ms late, and its
   * next one is due `inter` after it was due, so the rate is exact; 0 wakes for every check. Default: automatic,
   * from the checks due per second (`inter` of every target and agent): 10 ms from 5,000 checks a second up
   * and below 100, in between long enough that one wake starts about 50 checks, at most 50 ms (1,000 a second:
   * 50 ms).
   */
  tick?: number;
  /**
   * Measure each interval from the previous check's `start` (default: a fixed rate, so detection takes
   * about fall × inter even when checks time out) or its `end` (HAProxy's behaviour).
   */
  intervalFrom?: "start" | "end";
  /**
   * Envoy-style outlier detection over the outcomes reported with `observe()`: an ejected target is `down`
   * until its ejection time is over. Off unless given.
   */
  outlier?: OutlierOptions;
  /** The clock and timers every timer goes through. Default `systemTime`; tests pass a `FakeTime`. */
  time?: Time;
  /** Uniform random in [0, 1) for start spread and jitter. Default `Math.random`. */
  random?: () => number;
}

export interface CheckerSettings {
  concurrency: number;
  spread: number;
  abortGrace: number;
  batch: number;
  /** undefined: automatic (`autoTick` of the schedule's checks per second). */
  tick: number | undefined;
  intervalFrom: "start" | "end";
  outlier: OutlierDetector | undefined;
  time: Time;
  random: () => number;
}

const KNOWN = [
  "concurrency",
  "spread",
  "abortGrace",
  "batch",
  "tick",
  "intervalFrom",
  "outlier",
  "time",
  "random",
] as const;

export function checkerSettings(opts: HealthCheckerOptions): CheckerSettings {
  v.object("", opts, KNOWN);
  const time = opts.time ?? systemTime;
  if (typeof time?.now !== "function" || typeof time.setTimeout !== "function") {
    throw new HealthCheckConfigError("time", time, "must be a Clock & Timers, e.g. systemTime or a FakeTime");
  }
  const random = opts.random ?? Math.random;
  if (typeof random !== "function") throw new HealthCheckConfigError("random", random, "must be a function");
  return {
    concurrency: v.int("concurrency", opts.concurrency ?? 1000, 1, 1_000_000),
    spread: v.number("spread", opts.spread ?? 0, 0, 50, "a percentage, HAProxy spread-checks"),
    abortGrace: v.ms("abortGrace", opts.abortGrace ?? 1000, 0, 60_000),
    batch: v.int("batch", opts.batch ?? 64, 1, 1_000_000),
    tick: opts.tick === undefined ? undefined : v.ms("tick", opts.tick, 0, 1000),
    intervalFrom: v.oneOf("intervalFrom", opts.intervalFrom ?? "start", ["start", "end"]),
    outlier: opts.outlier === undefined ? undefined : new OutlierDetector(opts.outlier, time.now()),
    time,
    random,
  };
}
