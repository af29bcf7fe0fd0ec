/**
 * Pure check scheduling over caller-supplied time: start spread, per-check jitter (HAProxy `spread-checks`),
 * fixed-rate intervals measured from each check's start, never two checks in flight for one key, and a
 * global limit on checks in flight. The shell asks `take(now)` what to start and reports `finish`.
 * Keys are any values (the health checker uses one object per target and check kind); waiting keys sit in one
 * queue by due time (DueQueue: a heap with an O(1) path for in-order due times), re-keyed in place, so the
 * shell needs a single timer for all of them.
 */
import { DueQueue } from "./due-queue.js";
import { HealthCheckError } from "./errors.js";

export interface SchedulerOptions {
  /** Most checks in flight at once across all keys. Default: unlimited. */
  concurrency?: number;
  /** HAProxy `spread-checks`: each interval is randomised by ±spread percent (0..50). Default 0. */
  spread?: number;
  /** Uniform random in [0, 1); injected so tests are deterministic. Default Math.random. */
  random?: () => number;
  /**
   * Where each interval is measured from: `start` (default) — the previous check's start, a fixed rate, so
   * a slow or timed-out check does not stretch the period; `end` — the previous check's end, as HAProxy 2.6
   * does (measured: inter 300 ms + timeout 200 ms on a hanging server gives 500 ms between checks).
   */
  intervalFrom?: "start" | "end";
  /**
   * The shell starts due checks in ticks of this many ms (one wake for all of them). A check started within
   * one tick of its due time counts as started when it was due, so ticks do not stretch the intervals.
   * Default 0.
   */
  tick?: number;
}

interface Job<K> {
  key: K;
  due: number;
  /** ties in due time start in the order they were scheduled */
  seq: number;
  inFlight: boolean;
  /** When the check counts as started: its due time when started within one tick of it, else its start. */
  startedAt: number;
  /** How much later than `startedAt` it really started (the tick's delay; 0 when started late). */
  late: number;
  heapPos: number;
}

/** The automatic tick's bounds and aim: about this many checks per wake, in ticks of 10..50 ms. */
export const AUTO_TICK = { min: 10, max: 50, checksPerWake: 50, from: 100 } as const;

/**
 * The tick for a schedule of `checksPerSecond` checks a second: long enough that one wake starts about
 * {@link AUTO_TICK}.checksPerWake checks, within 10..50 ms. A wake of the event loop costs the same whether it
 * starts one check or a hundred (measured: ~100 µs of CPU for an empty timer wake in Node.js 20), so at 1,000
 * checks a second 10 ms ticks cost as much again as the checks' own JavaScript; from 5,000 a second up the
 * ticks stay at 10 ms, so that one wake does not start (and block the loop for) more than ~50–100 connects.
 * Below 100 checks a second a longer tick would merge few wakes, so it stays at 10 ms there too.
 */
export function autoTick(checksPerSecond: number): number {
  if (!(checksPerSecond >= AUTO_TICK.from)) return AUTO_TICK.min;
  const ms = Math.round((AUTO_TICK.checksPerWake * 1000) / checksPerSecond);
  return Math.min(AUTO_TICK.max, Math.max(AUTO_TICK.min, ms));
}

export class CheckScheduler<K = string> {
  readonly concurrency: number;
  readonly spread: number;
  readonly intervalFrom: "start" | "end";
  /** The shell's tick (see {@link SchedulerOptions.tick}); the shell may change it as its schedule grows. */
  tick: number;
  private readonly random: () => number;
  private readonly jobs = new Map<K, Job<K>>();
  private readonly waiting = new DueQueue<Job<K>>(
    (a, b) => a.due < b.due || (a.due === b.due && a.seq < b.seq),
  );
  private running = 0;
  private seq = 0;

  constructor(opts: SchedulerOptions = {}) {
    this.concurrency = opts.concurrency ?? Number.POSITIVE_INFINITY;
    this.spread = opts.spread ?? 0;
    this.random = opts.random ?? Math.random;
    this.intervalFrom = opts.intervalFrom ?? "start";
    this.tick = opts.tick ?? 0;
  }

  /** Checks in flight now. */
  get inFlight(): number {
    return this.running;
  }

  get size(): number {
    return this.jobs.size;
  }

  has(key: K): boolean {
    return this.jobs.has(key);
  }

  isInFlight(key: K): boolean {
    return this.jobs.get(key)?.inFlight ?? false;
  }

  /** When `key` is next due (undefined while in flight or unknown). */
  dueAt(key: K): number | undefined {
    const job = this.jobs.get(key);
    return job && !job.inFlight ? job.due : undefined;
  }

  /**
   * Add a key. Its first check is due at a uniformly random point within `firstWithin` ms (pass the
   * interval so that N keys added together spread over one interval instead of firing at once).
   */
  add(key: K, now: number, firstWithin: number): void {
    if (this.jobs.has(key))
      throw new HealthCheckError(
        "ERR_DUPLICATE",
        `healthcheck: scheduler key ${String(key)} is already added`,
      );
    const due = now + Math.floor(this.random() * Math.max(0, firstWithin));
    const job: Job<K> = { key, due, seq: ++this.seq, inFlight: false, startedAt: 0, late: 0, heapPos: -1 };
    this.jobs.set(key, job);
    this.waiting.push(job);
  }

  remove(key: K): void {
    const job = this.jobs.get(key);
    if (!job) return;
    if (job.inFlight) this.running--;
    else this.waiting.remove(job);
    this.jobs.delete(key);
  }

  /**
   * Start every due key the concurrency limit allows (at most `max`), earliest due first; they are now in
   * flight.
   */
  take(now: number, max = Number.POSITIVE_INFINITY): K[] {
    const out: K[] = [];
    while (this.running < this.concurrency && out.length < max) {
      const job = this.waiting.peek();
      if (job === undefined || job.due > now) break;
      this.waiting.remove(job);
      job.inFlight = true;
      const late = now - job.due;
      job.startedAt = late <= this.tick ? job.due : now;
      job.late = now - job.startedAt;
      this.running++;
      out.push(job.key);
    }
    return out;
  }

  /**
   * A check finished. The next one is due `interval` (jittered) after this one started (`intervalFrom`
   * `start`: if that moment has passed, it is due now) or after it ended (`end`; less the tick's delay in
   * starting it, which is not the check's time, so that ticks do not stretch the intervals there either).
   */
  finish(key: K, now: number, interval: number): void {
    const job = this.jobs.get(key);
    if (!job?.inFlight) return;
    job.inFlight = false;
    this.running--;
    const from = this.intervalFrom === "end" ? now - job.late : job.startedAt;
    job.due = Math.max(now, from + this.jitter(interval));
    job.seq = ++this.seq;
    this.waiting.push(job);
  }

  /** Bring a waiting key's next check forward to at most `interval` from now (on-error fastinter). */
  expedite(key: K, now: number, interval: number): void {
    const job = this.jobs.get(key);
    if (!job || job.inFlight) return;
    const due = now + interval;
    if (due >= job.due) return;
    job.due = due;
    job.seq = ++this.seq;
    this.waiting.update(job);
  }

  /** The earliest moment `take` could return something, or undefined if nothing can start until a finish. */
  nextDue(): number | undefined {
    if (this.running >= this.concurrency) return undefined;
    return this.waiting.peek()?.due;
  }

  jitter(interval: number): number {
    if (this.spread <= 0) return interval;
    const f = 1 + (this.spread / 100) * (2 * this.random() - 1);
    return Math.max(0, Math.round(interval * f));
  }
}
