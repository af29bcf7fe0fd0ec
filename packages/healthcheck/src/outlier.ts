/**
 * Envoy-style outlier detection, pure over caller-supplied time: consecutive 5xx, consecutive gateway
 * failures (502/503/504 and connection errors), and success-rate ejection swept every `interval`.
 * An ejected host stays out for `baseEjectionTime × times ejected` (capped at `maxEjectionTime`); the
 * multiplier shrinks by one for every interval the host spends in the pool without being ejected.
 * At most `maxEjectionPercent` of hosts are ejected at once, but at least one may always be.
 */
import type { RequestOutcome } from "@lbkit/core";
import { HealthCheckConfigError, v } from "./errors.js";

export interface OutlierOptions {
  /** Consecutive 5xx (connection errors count as 503) before ejection; 0 disables. Default 5. */
  consecutive5xx?: number;
  /** Consecutive 502/503/504 or connection errors before ejection; 0 disables. Default 5. */
  consecutiveGatewayFailure?: number;
  /** Sweep interval for success-rate analysis and multiplier decay, ms. Default 10000. */
  interval?: number;
  /** Default 30000 ms. */
  baseEjectionTime?: number;
  /** Default 300000 ms (and never less than baseEjectionTime). */
  maxEjectionTime?: number;
  /** Default 10. */
  maxEjectionPercent?: number;
  /** Hosts with enough volume needed before success-rate ejection runs; 0 disables it. Default 5. */
  successRateMinimumHosts?: number;
  /** Requests a host needs in one interval to take part in success-rate analysis. Default 100. */
  successRateRequestVolume?: number;
  /** Eject below mean − stdev × factor/1000. Default 1900 (1.9 σ). */
  successRateStdevFactor?: number;
}

export type OutlierReason = "consecutive-5xx" | "consecutive-gateway-failure" | "success-rate";

export type OutlierAction =
  | { type: "eject"; id: string; reason: OutlierReason; until: number; ejections: number }
  | { type: "uneject"; id: string };

interface Host {
  consecutive5xx: number;
  consecutiveGateway: number;
  ok: number;
  total: number;
  ejections: number;
  ejectedUntil: number | undefined;
}

export class OutlierDetector {
  readonly consecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly interval: number;
  readonly baseEjectionTime: number;
  readonly maxEjectionTime: number;
  readonly maxEjectionPercent: number;
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  readonly successRateStdevFactor: number;
  private readonly hosts = new Map<string, Host>();
  private nextSweep: number;

  constructor(opts: OutlierOptions = {}, now = 0) {
    this.consecutive5xx = v.int("consecutive5xx", opts.consecutive5xx ?? 5, 0, 1_000_000);
    this.consecutiveGatewayFailure = v.int(
      "consecutiveGatewayFailure",
      opts.consecutiveGatewayFailure ?? 5,
      0,
      1_000_000,
    );
    this.interval = v.ms("interval", opts.interval ?? 10_000, 1, 86_400_000);
    this.baseEjectionTime = v.ms("baseEjectionTime", opts.baseEjectionTime ?? 30_000, 1, 86_400_000);
    this.maxEjectionTime = v.ms("maxEjectionTime", opts.maxEjectionTime ?? 300_000, 1, 86_400_000);
    if (this.maxEjectionTime < this.baseEjectionTime) {
      throw new HealthCheckConfigError(
        "maxEjectionTime",
        this.maxEjectionTime,
        `is below baseEjectionTime ${this.baseEjectionTime} (raise maxEjectionTime)`,
      );
    }
    this.maxEjectionPercent = v.int("maxEjectionPercent", opts.maxEjectionPercent ?? 10, 0, 100);
    this.successRateMinimumHosts = v.int(
      "successRateMinimumHosts",
      opts.successRateMinimumHosts ?? 5,
      0,
      1e6,
    );
    this.successRateRequestVolume = v.int(
      "successRateRequestVolume",
      opts.successRateRequestVolume ?? 100,
      1,
      1e9,
    );
    this.successRateStdevFactor = v.int(
      "successRateStdevFactor",
      opts.successRateStdevFactor ?? 1900,
      0,
      1e6,
    );
    this.nextSweep = now + this.interval;
  }

  addHost(id: string): void {
    if (!this.hosts.has(id)) {
      this.hosts.set(id, {
        consecutive5xx: 0,
        consecutiveGateway: 0,
        ok: 0,
        total: 0,
        ejections: 0,
        ejectedUntil: undefined,
      });
    }
  }

  removeHost(id: string): void {
    this.hosts.delete(id);
  }

  isEjected(id: string): boolean {
    return this.hosts.get(id)?.ejectedUntil !== undefined;
  }

  /** Times `id` has been ejected (the ejection-time multiplier). */
  ejections(id: string): number {
    return this.hosts.get(id)?.ejections ?? 0;
  }

  ejectedCount(): number {
    let n = 0;
    for (const h of this.hosts.values()) if (h.ejectedUntil !== undefined) n++;
    return n;
  }

  /** When `tick` next has something to do. */
  nextTick(): number {
    let t = this.nextSweep;
    for (const h of this.hosts.values())
      if (h.ejectedUntil !== undefined && h.ejectedUntil < t) t = h.ejectedUntil;
    return t;
  }

  /** Record one request outcome; returns an ejection when a consecutive-error threshold is reached. */
  report(id: string, o: RequestOutcome, now: number): OutlierAction[] {
    const h = this.hosts.get(id);
    if (!h) return [];
    const status = o.status ?? (o.ok ? 200 : 503); /* local errors (no response) count as 503, as Envoy */
    h.total++;
    if (status < 500) {
      h.ok++;
      h.consecutive5xx = 0;
      h.consecutiveGateway = 0;
      return [];
    }
    h.consecutive5xx++;
    if (status === 502 || status === 503 || status === 504) h.consecutiveGateway++;
    else h.consecutiveGateway = 0;
    if (h.ejectedUntil !== undefined) return [];
    let reason: OutlierReason | undefined;
    if (this.consecutiveGatewayFailure > 0 && h.consecutiveGateway >= this.consecutiveGatewayFailure) {
      reason = "consecutive-gateway-failure";
    } else if (this.consecutive5xx > 0 && h.consecutive5xx >= this.consecutive5xx) {
      reason = "consecutive-5xx";
    }
    if (!reason) return [];
    const a = this.eject(id, h, reason, now);
    return a ? [a] : [];
  }

  /** Unejects hosts whose time is up and, once per interval, runs success-rate analysis. */
  tick(now: number): OutlierAction[] {
    const out: OutlierAction[] = [];
    const touched = new Set<Host>();
    for (const [id, h] of this.hosts) {
      if (h.ejectedUntil !== undefined && now >= h.ejectedUntil) {
        h.ejectedUntil = undefined;
        h.consecutive5xx = 0;
        h.consecutiveGateway = 0;
        out.push({ type: "uneject", id });
        touched.add(h);
      }
    }
    if (now < this.nextSweep) return out;
    this.nextSweep = now + this.interval;
    // success rate over the hosts in the pool with enough volume this interval
    const eligible: [string, Host, number][] = [];
    for (const [id, h] of this.hosts) {
      if (h.ejectedUntil === undefined && h.total >= this.successRateRequestVolume) {
        eligible.push([id, h, (100 * h.ok) / h.total]);
      }
    }
    if (this.successRateMinimumHosts > 0 && eligible.length >= this.successRateMinimumHosts) {
      const mean = eligible.reduce((s, [, , r]) => s + r, 0) / eligible.length;
      const variance = eligible.reduce((s, [, , r]) => s + (r - mean) ** 2, 0) / eligible.length;
      const threshold = mean - Math.sqrt(variance) * (this.successRateStdevFactor / 1000);
      for (const [id, h, rate] of eligible.sort((a, b) => a[2] - b[2])) {
        if (rate >= threshold) break;
        const a = this.eject(id, h, "success-rate", now);
        if (a) out.push(a);
        touched.add(h);
      }
    }
    // decay the multiplier of hosts that stayed in, reset per-interval counts
    for (const h of this.hosts.values()) {
      if (h.ejectedUntil === undefined && h.ejections > 0 && !touched.has(h)) h.ejections--;
      h.ok = 0;
      h.total = 0;
    }
    return out;
  }

  private eject(id: string, h: Host, reason: OutlierReason, now: number): OutlierAction | undefined {
    const ejected = this.ejectedCount();
    if (ejected > 0 && ((ejected + 1) * 100) / this.hosts.size > this.maxEjectionPercent) return undefined;
    h.ejections++;
    const time = Math.min(
      this.baseEjectionTime * h.ejections,
      Math.max(this.maxEjectionTime, this.baseEjectionTime),
    );
    h.ejectedUntil = now + time;
    return { type: "eject", id, reason, until: h.ejectedUntil, ejections: h.ejections };
  }
}
