/**
 * The imperative shell: owns one wake timer, runs checkers (through `Flights`), feeds results into the pure
 * state and scheduler, and emits typed events. Everything time-related goes through the injected `time`.
 */
import { emitError, type RequestOutcome, type Time } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { type TargetOptions, targetConfig } from "./config.js";
import { stateOf } from "./effective.js";
import { HealthCheckConfigError, HealthCheckError } from "./errors.js";
import type { ChangeEvent, HealthCheckerEvents, TargetStatus, WeightEvent } from "./events.js";
import { Flights } from "./flights.js";
import { type CheckerSettings, checkerSettings, type HealthCheckerOptions } from "./options.js";
import type { OutlierAction } from "./outlier.js";
import { passiveStep } from "./passive.js";
import { type AgentReply, type CheckResult, reasonText } from "./result.js";
import { autoTick, CheckScheduler } from "./scheduler.js";
import { checkInterval, type HealthStep, healthPhase, markDown, recordCheck, suddenDeath } from "./state.js";
import { newTarget, type Slot, snapshot, type Target } from "./target.js";

type Why = Pick<ChangeEvent, "reason" | "code" | "duration" | "excerpt">;

export class HealthChecker extends EventEmitter<HealthCheckerEvents> {
  private readonly settings: CheckerSettings;
  private readonly time: Time;
  private readonly scheduler: CheckScheduler<Slot>;
  private readonly flights: Flights<Slot>;
  private readonly targets = new Map<string, Target>();
  private running = false;
  private stopping: Promise<void> | undefined;
  /** Checks due per second over every scheduled slot (each at its configured `inter`): the automatic tick's input. */
  private checksPerSecond = 0;
  private wakeAt = Number.POSITIVE_INFINITY;
  private wakeHandle: unknown;
  private readonly onWake = () => this.wake();

  constructor(opts: HealthCheckerOptions = {}) {
    super();
    this.settings = checkerSettings(opts);
    this.time = this.settings.time;
    const { concurrency, spread, random, intervalFrom, tick } = this.settings;
    this.scheduler = new CheckScheduler<Slot>({ concurrency, spread, random, intervalFrom, tick: tick ?? 0 });
    this.flights = new Flights<Slot>(this.time, this.settings.abortGrace, {
      result: (slot, result, duration) => this.complete(slot, result, duration),
      error: (slot, code, what, cause) =>
        emitError(
          this,
          new HealthCheckError(
            code,
            `healthcheck: ${slot.kind === "agent" ? "the agent checker" : "the checker"} of target ${JSON.stringify(slot.target.cfg.id)} ${what}`,
            cause === undefined ? undefined : { cause },
          ),
        ),
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
    const t = newTarget(cfg, this.time.now());
    this.targets.set(cfg.id, t);
    this.settings.outlier?.addHost(cfg.id);
    if (this.running) {
      this.schedule(t, this.time.now());
      this.arm();
    }
  }

  /** First checks are spread over one interval from now (at start, or when added while running). */
  private schedule(t: Target, now: number): void {
    this.scheduler.add(t.check, now, checkInterval(t.cfg, t.cfg, t.health));
    if (t.agent && t.cfg.agent) this.scheduler.add(t.agent, now, t.cfg.agent.inter);
    this.retune(t, 1);
  }

  private unschedule(t: Target, reason: () => HealthCheckError): void {
    const scheduled = this.scheduler.has(t.check);
    for (const slot of [t.check, t.agent]) {
      if (!slot) continue;
      this.scheduler.remove(slot);
      if (slot.flight) this.flights.cancel(slot, reason());
    }
    if (scheduled) this.retune(t, -1);
  }

  /** `t`'s checks join (`sign` 1) or leave (-1) the schedule: the automatic tick follows the rate. */
  private retune(t: Target, sign: 1 | -1): void {
    const cfg = t.cfg;
    this.checksPerSecond += sign * (1000 / cfg.inter + (cfg.agent ? 1000 / cfg.agent.inter : 0));
    if (this.scheduler.size === 0) this.checksPerSecond = 0; // no float residue once empty
    if (this.settings.tick === undefined) this.scheduler.tick = autoTick(this.checksPerSecond);
  }

  /** Remove a target; a check in flight is aborted and its result ignored. */
  remove(id: string): boolean {
    const t = this.targets.get(id);
    if (!t) return false;
    this.targets.delete(id);
    this.settings.outlier?.removeHost(id);
    this.unschedule(
      t,
      () => new HealthCheckError("ERR_TARGET_REMOVED", `healthcheck: target ${JSON.stringify(id)} removed`),
    );
    this.arm();
    return true;
  }

  has(id: string): boolean {
    return this.targets.has(id);
  }

  status(id: string): TargetStatus | undefined {
    const t = this.targets.get(id);
    return t ? snapshot(t) : undefined;
  }

  list(): TargetStatus[] {
    return [...this.targets.values()].map(snapshot);
  }

  /** Checks in flight now. */
  get inFlight(): number {
    return this.flights.size;
  }

  get started(): boolean {
    return this.running;
  }

  /** Start checking every target; resolves at once (nothing here can fail). A no-op while running. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    const now = this.time.now();
    for (const t of this.targets.values()) this.schedule(t, now);
    this.wake();
    return Promise.resolve();
  }

  /**
   * Stop scheduling, abort checks in flight and wait (at most `abortGrace`) for them to settle. Idempotent;
   * `start()` may follow at once.
   */
  stop(): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.running = false;
    this.disarm();
    for (const t of this.targets.values())
      this.unschedule(t, () => new HealthCheckError("ERR_STOPPED", "healthcheck: checker stopped"));
    const stopping = this.drain().finally(() => {
      if (this.stopping === stopping) this.stopping = undefined;
    });
    this.stopping = stopping;
    return stopping;
  }

  private async drain(): Promise<void> {
    let handle: unknown;
    await Promise.race([
      this.flights.drained(),
      new Promise<void>((resolve) => {
        handle = this.time.setTimeout(resolve, this.settings.abortGrace);
      }),
    ]);
    this.time.clearTimeout(handle);
  }

  /**
   * Report the outcome of a real request to `id` (the same `RequestOutcome` a pool lease's `release()` takes):
   * feeds the target's `passive` checks (HAProxy observe/error-limit/on-error) and, when enabled, outlier
   * detection. Unknown ids are ignored.
   */
  observe(id: string, outcome: RequestOutcome): void {
    const t = this.targets.get(id);
    if (!t) return;
    const outlier = this.settings.outlier;
    if (outlier) this.applyOutlier(outlier.report(id, outcome, this.time.now()));
    const passive = t.cfg.passive;
    if (!passive) return;
    const step = passiveStep(passive, t.passiveErrors, outcome);
    t.passiveErrors = step.errors;
    if (!step.action) return;
    const cfg = t.cfg;
    let next: HealthStep | undefined;
    if (step.action === "fail-check") next = recordCheck(cfg, t.health, false);
    else if (step.action === "sudden-death") next = suddenDeath(cfg, t.health);
    else if (step.action === "mark-down") next = markDown(cfg, t.health);
    if (next) t.health = next.state;
    this.scheduler.expedite(t.check, this.time.now(), cfg.fastinter);
    this.update(t, {
      reason: `${passive.errorLimit} consecutive ${passive.observe} errors, on-error ${step.action}`,
      code: "PASSIVE",
      duration: 0,
    });
    this.arm();
  }

  private applyOutlier(actions: OutlierAction[]): void {
    const now = this.time.now();
    for (const a of actions) {
      const t = this.targets.get(a.id);
      if (!t) continue;
      t.ejected = a.type === "eject";
      const reason =
        a.type === "eject"
          ? `outlier ${a.reason}: ejected for ${Math.round(a.until - now)} ms (ejection ${a.ejections})`
          : "outlier: ejection time over";
      this.update(t, { reason, code: "OUTLIER", duration: 0 });
    }
    if (actions.length) this.arm();
  }

  /** The one timer: check timeouts, outlier ticks and due checks (at most `batch` per turn). */
  private wake(): void {
    this.wakeHandle = undefined;
    this.wakeAt = Number.POSITIVE_INFINITY;
    if (!this.running) return;
    const now = this.time.now();
    this.flights.expire(now);
    const outlier = this.settings.outlier;
    if (outlier && outlier.nextTick() <= now) this.applyOutlier(outlier.tick(now));
    for (const slot of this.scheduler.take(now, this.settings.batch)) this.launch(slot, now);
    this.arm();
  }

  private arm(): void {
    if (!this.running) return;
    const now = this.time.now();
    let at = this.scheduler.nextDue() ?? Number.POSITIVE_INFINITY;
    // a check due in the future starts on the tick after, so that one wake serves every check due within it;
    // timeouts and outlier sweeps keep their exact time
    const tick = this.scheduler.tick;
    if (tick > 0 && at > now && at !== Number.POSITIVE_INFINITY) at = Math.ceil(at / tick) * tick;
    const deadline = this.flights.nextDeadline();
    if (deadline !== undefined && deadline < at) at = deadline;
    const sweep = this.settings.outlier?.nextTick();
    if (sweep !== undefined && sweep < at) at = sweep;
    if (at === Number.POSITIVE_INFINITY) {
      if (this.wakeAt !== Number.POSITIVE_INFINITY) this.disarm();
      return;
    }
    if (at >= this.wakeAt) return;
    this.disarm();
    this.wakeAt = at;
    this.wakeHandle = this.time.setTimeout(this.onWake, Math.max(0, Math.ceil(at - now)));
  }

  private disarm(): void {
    if (this.wakeHandle !== undefined) this.time.clearTimeout(this.wakeHandle);
    this.wakeHandle = undefined;
    this.wakeAt = Number.POSITIVE_INFINITY;
  }

  private launch(slot: Slot, now: number): void {
    const cfg = slot.target.cfg;
    const agent = slot.kind === "agent" ? cfg.agent : undefined;
    if (agent) this.flights.launch(slot, agent.check, agent.timeout, now);
    else this.flights.launch(slot, cfg.check, cfg.timeout, now);
  }

  private complete(slot: Slot, result: CheckResult, duration: number): void {
    const t = slot.target;
    const cfg = t.cfg;
    const now = this.time.now();
    const ok = result.status === "up";
    if (slot.kind === "check") {
      t.checks++;
      t.lastResult = result;
      t.health = recordCheck(cfg, t.health, ok).state;
      if (ok) t.passiveErrors = 0; // HAProxy: a passing check clears observed errors
      this.scheduler.finish(slot, now, checkInterval(cfg, cfg, t.health));
      if (ok) this.setWeight(t, result.weightPercent, result.weight);
    } else {
      this.scheduler.finish(slot, now, cfg.agent?.inter ?? cfg.inter);
      if (result.agent) this.applyAgent(t, result.agent);
    }
    if (this.listenerCount("check") > 0) {
      this.emit("check", {
        id: cfg.id,
        kind: slot.kind,
        result,
        duration,
        healthUp: t.health.up,
        health: t.health.health,
        phase: healthPhase(cfg, t.health),
      });
    }
    if (this.stateOf(t) !== t.state) {
      const why: Why =
        slot.kind === "agent"
          ? { reason: `agent: ${result.reason}`, code: "AGENT", duration }
          : { reason: `${result.code}: ${result.reason}`, code: result.code, duration };
      if (result.excerpt !== undefined) why.excerpt = result.excerpt;
      this.update(t, why);
    }
    this.arm(); // new checks start from the wake timer, at most `batch` per turn
  }

  private applyAgent(t: Target, reply: AgentReply): void {
    if (reply.op !== undefined) t.agentDown = reply.op !== "up";
    if (reply.admin !== undefined) t.admin = reply.admin === "ready" ? undefined : reply.admin;
    if (reply.weightPercent !== undefined) this.setWeight(t, reply.weightPercent, undefined);
    if (reply.maxConn !== undefined && reply.maxConn !== t.maxConn) {
      t.maxConn = reply.maxConn;
      this.emit("maxConn", { id: t.cfg.id, maxConn: reply.maxConn });
    }
  }

  private setWeight(t: Target, weightPercent: number | undefined, weight: number | undefined): void {
    if (weightPercent === undefined && weight === undefined) return;
    if (weightPercent === t.weightPercent && weight === t.weight) return;
    t.weightPercent = weightPercent;
    t.weight = weight;
    const e: WeightEvent = { id: t.cfg.id };
    if (weightPercent !== undefined) e.weightPercent = weightPercent;
    if (weight !== undefined) e.weight = weight;
    this.emit("weight", e);
  }

  private stateOf(t: Target) {
    return stateOf(t.health.up, t.agentDown, t.admin, t.ejected);
  }

  private update(t: Target, why: Why): void {
    const to = this.stateOf(t);
    if (to === t.state) return;
    const now = this.time.now();
    const e: ChangeEvent = {
      id: t.cfg.id,
      from: t.state,
      to,
      reason: reasonText(why.reason),
      at: now,
      code: why.code,
      duration: why.duration,
      since: now - t.since,
    };
    if (why.excerpt !== undefined) e.excerpt = why.excerpt;
    t.state = to;
    t.since = now;
    this.emit("change", e);
  }
}
