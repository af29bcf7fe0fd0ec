/**
 * The imperative shell: owns the timers, runs checkers, feeds results into the pure state and scheduler,
 * and emits typed events. Everything time-related goes through the injected Clock and Timers.
 */
import { EventEmitter } from "eventemitter3";
import { type Clock, systemClock, systemTimers, type Timers } from "./clock.js";
import { type TargetConfig, type TargetOptions, targetConfig } from "./config.js";
import { effectiveState, type ServerState } from "./effective.js";
import { HealthCheckConfigError, requireInt, requireMs } from "./errors.js";
import { type OutlierAction, OutlierDetector, type OutlierOptions } from "./outlier.js";
import { observe as observeOutcome, type TrafficOutcome } from "./passive.js";
import { type AgentReply, type CheckCode, type CheckResult, down } from "./result.js";
import { CheckScheduler } from "./scheduler.js";
import {
  type HealthState,
  initialState,
  interval,
  markDown,
  type Phase,
  phase,
  record,
  type Step,
  suddenDeath,
} from "./state.js";

export interface HealthCheckerOptions {
  /** Most checks in flight at once. Default 1000 (enough for 10,000 targets at 1 s with fast backends). */
  concurrency?: number;
  /** HAProxy `spread-checks`: ±percent randomisation of every interval, 0..50. Default 0. */
  spread?: number;
  /** After aborting a check at its timeout, how long the checker gets to settle before it is abandoned. */
  abortGrace?: number;
  /**
   * Most checks started in one event-loop turn; the rest start on the next turn, so that a burst of due
   * checks does not block the loop (connect() on loopback is synchronous work). Default 256.
   */
  batch?: number;
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
  clock?: Clock;
  timers?: Timers;
  random?: () => number;
}

export type CheckKind = "check" | "agent";

export interface CheckEvent {
  id: string;
  kind: CheckKind;
  result: CheckResult;
  /** How long the check took, ms. */
  duration: number;
  /** The rise/fall verdict and counter after this result. */
  healthUp: boolean;
  health: number;
  phase: Phase;
}

export interface ChangeEvent {
  id: string;
  from: ServerState;
  to: ServerState;
  /** Why, e.g. `L7STS: HTTP status 500 not in 200-399`. */
  reason: string;
  code: CheckCode | "AGENT" | "PASSIVE" | "OUTLIER";
  /** Duration of the check that caused the change, ms (0 for passive changes). */
  duration: number;
  /** A short excerpt of the response that caused the change. */
  excerpt?: string;
  /** Time spent in the previous state, ms. */
  since: number;
}

export interface WeightEvent {
  id: string;
  /** Relative to the initial weight (agent `NN%`). */
  percent?: number;
  /** Absolute (keepalived misc_dynamic). */
  weight?: number;
}

/** An agent's `maxconn:N` (HAProxy agent-check): the server's connection limit, 0 = none. */
export interface MaxConnEvent {
  id: string;
  maxconn: number;
}

export interface HealthCheckerEvents {
  check: (e: CheckEvent) => void;
  change: (e: ChangeEvent) => void;
  up: (e: ChangeEvent) => void;
  down: (e: ChangeEvent) => void;
  weight: (e: WeightEvent) => void;
  maxconn: (e: MaxConnEvent) => void;
}

export interface TargetStatus {
  id: string;
  state: ServerState;
  healthUp: boolean;
  health: number;
  phase: Phase;
  agentDown: boolean;
  /** Ejected by outlier detection. */
  ejected: boolean;
  admin?: "ready" | "drain" | "maint";
  weightPercent?: number;
  weight?: number;
  /** The last `maxconn:N` an agent sent. */
  maxconn?: number;
  lastResult?: CheckResult;
  /** Checks run (not counting agent checks). */
  checks: number;
}

interface Target {
  cfg: TargetConfig;
  health: HealthState;
  agentDown: boolean;
  ejected: boolean;
  admin: "ready" | "drain" | "maint" | undefined;
  state: ServerState;
  since: number;
  weightPercent: number | undefined;
  weight: number | undefined;
  maxconn: number | undefined;
  lastResult: CheckResult | undefined;
  checks: number;
  passiveErrors: number;
}

interface Flight {
  target: Target;
  kind: CheckKind;
  abort: AbortController;
  timer: unknown;
  grace: unknown;
  settled: Promise<void>;
}

const AGENT_SUFFIX = "\u0000agent";

export class HealthChecker extends EventEmitter<HealthCheckerEvents> {
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly scheduler: CheckScheduler;
  private readonly abortGrace: number;
  private readonly batch: number;
  private readonly targets = new Map<string, Target>();
  private readonly flights = new Map<string, Flight>();
  private wake: { at: number; handle: unknown } | undefined;
  private running = false;
  private readonly outlier: OutlierDetector | undefined;
  private outlierWake: { at: number; handle: unknown } | undefined;

  constructor(opts: HealthCheckerOptions = {}) {
    super();
    const concurrency = requireInt("concurrency", opts.concurrency ?? 1000, 1, 1_000_000);
    const spread = opts.spread ?? 0;
    if (typeof spread !== "number" || !(spread >= 0 && spread <= 50)) {
      throw new HealthCheckConfigError(
        "spread",
        spread,
        "must be a percentage 0..50 (HAProxy spread-checks)",
      );
    }
    this.abortGrace = requireMs("abortGrace", opts.abortGrace ?? 1000, 0, 60_000);
    this.batch = requireInt("batch", opts.batch ?? 256, 1, 1_000_000);
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? systemTimers;
    if (opts.outlier !== undefined) this.outlier = new OutlierDetector(opts.outlier, this.clock.now());
    const intervalFrom = opts.intervalFrom ?? "start";
    if (intervalFrom !== "start" && intervalFrom !== "end") {
      throw new HealthCheckConfigError("intervalFrom", intervalFrom, "must be start or end");
    }
    this.scheduler = new CheckScheduler({
      concurrency,
      spread,
      intervalFrom,
      ...(opts.random ? { random: opts.random } : {}),
    });
  }

  /**
   * Add a target. Its first check runs within one interval of `start()` (or of now, when already started),
   * at a random point so that targets do not align.
   */
  add(options: TargetOptions): void {
    const cfg = targetConfig(options);
    if (this.targets.has(cfg.id)) {
      throw new HealthCheckConfigError("id", cfg.id, "is already added (remove it first)");
    }
    const health = initialState(cfg, cfg.initState);
    const t: Target = {
      cfg,
      health,
      agentDown: false,
      ejected: false,
      admin: undefined,
      state: health.up ? "up" : "down",
      since: this.clock.now(),
      weightPercent: undefined,
      maxconn: undefined,
      weight: undefined,
      lastResult: undefined,
      checks: 0,
      passiveErrors: 0,
    };
    this.targets.set(cfg.id, t);
    this.outlier?.addHost(cfg.id);
    if (this.running) {
      this.schedule(t, this.clock.now());
      this.arm();
    }
  }

  /** First checks are spread over one interval from now (at start, or when added while running). */
  private schedule(t: Target, now: number): void {
    const cfg = t.cfg;
    this.scheduler.add(cfg.id, now, interval(cfg, cfg, t.health));
    if (cfg.agent) this.scheduler.add(cfg.id + AGENT_SUFFIX, now, cfg.agent.inter);
  }

  /** Remove a target; a check in flight is aborted and its result ignored. */
  remove(id: string): boolean {
    const t = this.targets.get(id);
    if (!t) return false;
    this.targets.delete(id);
    this.outlier?.removeHost(id);
    for (const key of [id, id + AGENT_SUFFIX]) {
      this.scheduler.remove(key);
      const f = this.flights.get(key);
      if (f) {
        this.flights.delete(key);
        this.release(f);
        f.abort.abort(new Error("healthcheck: target removed"));
      }
    }
    if (this.running) this.arm();
    return true;
  }

  has(id: string): boolean {
    return this.targets.has(id);
  }

  status(id: string): TargetStatus | undefined {
    const t = this.targets.get(id);
    return t ? this.snapshot(t) : undefined;
  }

  list(): TargetStatus[] {
    return [...this.targets.values()].map((t) => this.snapshot(t));
  }

  /** Checks in flight now. */
  get inFlight(): number {
    return this.flights.size;
  }

  get started(): boolean {
    return this.running;
  }

  start(): this {
    if (this.running) return this;
    this.running = true;
    const now = this.clock.now();
    for (const t of this.targets.values()) this.schedule(t, now);
    this.pump();
    this.armOutlier();
    return this;
  }

  /** Stop scheduling, abort checks in flight and wait (at most `abortGrace`) for them to settle. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.wake) this.timers.clearTimeout(this.wake.handle);
    this.wake = undefined;
    if (this.outlierWake) this.timers.clearTimeout(this.outlierWake.handle);
    this.outlierWake = undefined;
    const pending: Promise<void>[] = [];
    for (const [key, f] of this.flights) {
      this.flights.delete(key);
      this.release(f);
      f.abort.abort(new Error("healthcheck: checker stopped"));
      pending.push(f.settled);
    }
    for (const id of this.targets.keys()) {
      this.scheduler.remove(id);
      this.scheduler.remove(id + AGENT_SUFFIX);
    }
    if (pending.length === 0) return;
    let handle: unknown;
    await Promise.race([
      Promise.allSettled(pending),
      new Promise<void>((resolve) => {
        handle = this.timers.setTimeout(resolve, this.abortGrace);
      }),
    ]);
    this.timers.clearTimeout(handle);
  }

  /**
   * Report the outcome of a real request to `id`: feeds the target's `passive` (HAProxy observe/error-limit/
   * on-error) and, when enabled, outlier detection.
   */
  observe(id: string, outcome: TrafficOutcome): void {
    const t = this.targets.get(id);
    if (!t) return;
    if (this.outlier) this.applyOutlier(this.outlier.report(id, outcome, this.clock.now()));
    if (!t.cfg.passive) return;
    const step = observeOutcome(t.cfg.passive, t.passiveErrors, outcome);
    t.passiveErrors = step.errors;
    if (!step.action) return;
    const cfg = t.cfg;
    let next: Step | undefined;
    if (step.action === "fail-check") next = record(cfg, t.health, false);
    else if (step.action === "sudden-death") next = suddenDeath(cfg, t.health);
    else if (step.action === "mark-down") next = markDown(cfg, t.health);
    if (next) t.health = next.state;
    this.scheduler.expedite(id, this.clock.now(), cfg.fastinter);
    this.update(t, {
      reason: `${cfg.passive?.errorLimit} consecutive ${cfg.passive?.observe} errors, on-error ${step.action}`,
      code: "PASSIVE",
      duration: 0,
    });
    if (this.running) this.arm();
  }

  private applyOutlier(actions: OutlierAction[]): void {
    const now = this.clock.now();
    for (const a of actions) {
      const t = this.targets.get(a.id);
      if (!t) continue;
      if (a.type === "eject") {
        t.ejected = true;
        this.update(t, {
          reason: `outlier ${a.reason}: ejected for ${Math.round(a.until - now)} ms (ejection ${a.ejections})`,
          code: "OUTLIER",
          duration: 0,
        });
      } else {
        t.ejected = false;
        this.update(t, { reason: "outlier: ejection time over", code: "OUTLIER", duration: 0 });
      }
    }
    this.armOutlier();
  }

  private armOutlier(): void {
    if (!this.outlier || !this.running) return;
    const at = this.outlier.nextTick();
    if (this.outlierWake && this.outlierWake.at <= at) return;
    if (this.outlierWake) this.timers.clearTimeout(this.outlierWake.handle);
    const handle = this.timers.setTimeout(
      () => {
        this.outlierWake = undefined;
        if (this.outlier) this.applyOutlier(this.outlier.tick(this.clock.now()));
      },
      Math.max(0, Math.ceil(at - this.clock.now())),
    );
    this.outlierWake = { at, handle };
  }

  private snapshot(t: Target): TargetStatus {
    const s: TargetStatus = {
      id: t.cfg.id,
      state: t.state,
      healthUp: t.health.up,
      health: t.health.health,
      phase: phase(t.cfg, t.health),
      agentDown: t.agentDown,
      ejected: t.ejected,
      checks: t.checks,
    };
    if (t.admin !== undefined) s.admin = t.admin;
    if (t.weightPercent !== undefined) s.weightPercent = t.weightPercent;
    if (t.weight !== undefined) s.weight = t.weight;
    if (t.maxconn !== undefined) s.maxconn = t.maxconn;
    if (t.lastResult !== undefined) s.lastResult = t.lastResult;
    return s;
  }

  private pump(): void {
    if (!this.running) return;
    const now = this.clock.now();
    for (const key of this.scheduler.take(now, this.batch)) this.launch(key, now);
    this.arm();
  }

  private arm(): void {
    if (!this.running) return;
    const due = this.scheduler.nextDue();
    if (due === undefined) {
      if (this.wake) this.timers.clearTimeout(this.wake.handle);
      this.wake = undefined;
      return;
    }
    if (this.wake && this.wake.at <= due) return;
    if (this.wake) this.timers.clearTimeout(this.wake.handle);
    const delay = Math.max(0, Math.ceil(due - this.clock.now()));
    const handle = this.timers.setTimeout(() => {
      this.wake = undefined;
      this.pump();
    }, delay);
    this.wake = { at: due, handle };
  }

  private launch(key: string, started: number): void {
    const isAgent = key.endsWith(AGENT_SUFFIX);
    const id = isAgent ? key.slice(0, -AGENT_SUFFIX.length) : key;
    const target = this.targets.get(id);
    if (!target) return;
    const kind: CheckKind = isAgent ? "agent" : "check";
    const agent = target.cfg.agent;
    const checker = isAgent && agent ? agent.check : target.cfg.check;
    const timeout = isAgent && agent ? agent.timeout : target.cfg.timeout;
    const abort = new AbortController();
    let settle!: () => void;
    const flight: Flight = {
      target,
      kind,
      abort,
      timer: undefined,
      grace: undefined,
      settled: new Promise<void>((r) => {
        settle = r;
      }),
    };
    this.flights.set(key, flight);
    const finish = (result: CheckResult) => {
      settle();
      if (this.flights.get(key) !== flight) return; // removed, stopped or abandoned
      this.flights.delete(key);
      this.release(flight);
      this.complete(key, flight, result, this.clock.now() - started);
    };
    flight.timer = this.timers.setTimeout(() => {
      flight.timer = undefined;
      abort.abort(new CheckTimeoutError(timeout));
      flight.grace = this.timers.setTimeout(() => {
        flight.grace = undefined;
        finish(down("TIMEOUT", `no result within timeout ${timeout} ms (checker ignored the abort)`));
      }, this.abortGrace);
    }, timeout);
    let p: Promise<CheckResult>;
    try {
      p = checker({ signal: abort.signal, timeout });
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(finish, (err: unknown) => {
      const msg = err instanceof Error ? err.message : String(err);
      finish(down(abort.signal.aborted ? "TIMEOUT" : "ERROR", `checker failed: ${msg}`));
    });
  }

  private release(f: Flight): void {
    if (f.timer !== undefined) this.timers.clearTimeout(f.timer);
    if (f.grace !== undefined) this.timers.clearTimeout(f.grace);
    f.timer = undefined;
    f.grace = undefined;
  }

  private complete(key: string, f: Flight, result: CheckResult, duration: number): void {
    const t = f.target;
    const cfg = t.cfg;
    const now = this.clock.now();
    if (f.kind === "check") {
      t.checks++;
      t.lastResult = result;
      t.health = record(cfg, t.health, result.status === "up").state;
      if (result.status === "up") t.passiveErrors = 0; // HAProxy: a passing check clears observed errors
      this.scheduler.finish(key, now, interval(cfg, cfg, t.health));
      if (result.status === "up") this.setWeight(t, result.weightPercent, result.weight);
    } else {
      this.scheduler.finish(key, now, cfg.agent?.inter ?? cfg.inter);
      if (result.agent) this.applyAgent(t, result.agent);
    }
    this.emit("check", {
      id: cfg.id,
      kind: f.kind,
      result,
      duration,
      healthUp: t.health.up,
      health: t.health.health,
      phase: phase(cfg, t.health),
    });
    const change: Omit<ChangeEvent, "id" | "from" | "to" | "since"> =
      f.kind === "agent"
        ? { reason: `agent: ${result.reason}`, code: "AGENT", duration }
        : { reason: `${result.code}: ${result.reason}`, code: result.code, duration };
    if (result.excerpt !== undefined) change.excerpt = result.excerpt;
    this.update(t, change);
    this.arm(); // new checks start from the wake timer, at most `batch` per turn
  }

  private applyAgent(t: Target, reply: AgentReply): void {
    if (reply.op !== undefined) t.agentDown = reply.op !== "up";
    if (reply.admin !== undefined) t.admin = reply.admin === "ready" ? undefined : reply.admin;
    if (reply.weightPercent !== undefined) this.setWeight(t, reply.weightPercent, undefined);
    if (reply.maxconn !== undefined && reply.maxconn !== t.maxconn) {
      t.maxconn = reply.maxconn;
      this.emit("maxconn", { id: t.cfg.id, maxconn: reply.maxconn });
    }
  }

  private setWeight(t: Target, percent: number | undefined, weight: number | undefined): void {
    if (percent === undefined && weight === undefined) return;
    if (percent === t.weightPercent && weight === t.weight) return;
    t.weightPercent = percent;
    t.weight = weight;
    const e: WeightEvent = { id: t.cfg.id };
    if (percent !== undefined) e.percent = percent;
    if (weight !== undefined) e.weight = weight;
    this.emit("weight", e);
  }

  private update(t: Target, why: Omit<ChangeEvent, "id" | "from" | "to" | "since">): void {
    const to = effectiveState({
      healthUp: t.health.up,
      agentDown: t.agentDown,
      admin: t.admin,
      ejected: t.ejected,
    });
    if (to === t.state) return;
    const now = this.clock.now();
    const e: ChangeEvent = { id: t.cfg.id, from: t.state, to, ...why, since: now - t.since };
    t.state = to;
    t.since = now;
    this.emit("change", e);
    if (to === "up") this.emit("up", e);
    else if (to === "down") this.emit("down", e);
  }
}

/** The reason a check's signal is aborted at its timeout. */
export class CheckTimeoutError extends Error {
  override readonly name = "CheckTimeoutError";
  constructor(readonly timeout: number) {
    super(`healthcheck: check timed out after ${timeout} ms`);
  }
}
