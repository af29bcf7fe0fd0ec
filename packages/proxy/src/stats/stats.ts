/**
 * ProxyStats: listens to a ReverseProxy's `request`, `session` and `change` events (and its backends' `check`
 * events), keeps HAProxy-style counters per frontend, backend and server, and builds snapshots on demand.
 * The counting is `record()` on plain number fields; everything else happens when a snapshot is asked for.
 */
import { type Clock, systemTime } from "@lbkit/core";
import type { CheckEvent } from "@lbkit/healthcheck";
import type { Backend } from "../backend.js";
import type { ProxyChangeEvent, ReverseProxy } from "../proxy.js";
import type { TransactionLog } from "../shell.js";
import { newTraffic, rateOf, record, type Traffic } from "./counters.js";
import type { BackendRow, CheckInfo, FrontendRow, RowStatus, ServerRow, StatsSnapshot } from "./snapshot.js";

interface ServerRecord {
  traffic: Traffic;
  changedAt: number;
  downSince: number;
  downtime: number;
  chkfail: number;
  chkdown: number;
  check: { status: string; code: number | undefined; duration: number; desc: string; at: number } | undefined;
}

interface BackendRecord {
  traffic: Traffic;
  servers: Map<string, ServerRecord>;
  smax: number;
  qmax: number;
  /** The Backend object whose `check` events we hear (replaced by setBackend). */
  bound: Backend | undefined;
  unbind: (() => void) | undefined;
  usable: boolean;
  changedAt: number;
  downSince: number;
  downtime: number;
  chkdown: number;
}

export interface ProxyStatsOptions {
  /** Clock for rates and durations (default core's systemTime; the proxy's own `time` in tests). */
  clock?: Clock;
}

/**
 * HAProxy's `UP n/fall` / `DOWN n/rise` from the check health (0 … rise+fall-1), as its stats page prints them:
 * going down n = health - rise + 1 (failures left before DOWN), going up n = health (successes so far).
 */
export function transition(
  state: string,
  health: number | undefined,
  rise: number,
  fall: number,
): string | undefined {
  if (health === undefined) return undefined;
  const max = rise + fall - 1;
  if (state === "up" && health >= rise && health < max) return `${health - rise + 1}/${fall}`;
  if (state === "down" && health > 0 && health < rise) return `${health}/${rise}`;
  return undefined;
}

const STATUS: Record<string, RowStatus> = { up: "UP", down: "DOWN", drain: "DRAIN", maint: "MAINT" };

export class ProxyStats {
  private readonly clock: Clock;
  private readonly frontends = new Map<string, Traffic>();
  private readonly backends = new Map<string, BackendRecord>();
  private readonly startedAt: number;
  private attached = false;
  private readonly onTxn = (e: TransactionLog) => this.record(e);
  private readonly onChange = (e: ProxyChangeEvent) => this.change(e);

  constructor(
    readonly proxy: ReverseProxy,
    options: ProxyStatsOptions = {},
  ) {
    this.clock = options.clock ?? systemTime;
    this.startedAt = this.clock.now();
    this.attach();
  }

  /** Listens to the proxy (done by the constructor; again after detach()). */
  attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.proxy.on("request", this.onTxn);
    this.proxy.on("session", this.onTxn);
    this.proxy.on("change", this.onChange);
    for (const id of this.proxy.backendIds()) this.bind(this.backendRecord(id), this.proxy.backend(id));
  }

  /** Stops listening (counters are kept). */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.proxy.off("request", this.onTxn);
    this.proxy.off("session", this.onTxn);
    this.proxy.off("change", this.onChange);
    for (const b of this.backends.values()) {
      b.unbind?.();
      b.unbind = undefined;
      b.bound = undefined;
    }
  }

  /** Counts one finished transaction (the `request`/`session` listener; public for tests and custom feeds). */
  record(e: TransactionLog): void {
    const now = this.clock.now();
    let fe = this.frontends.get(e.frontend);
    if (!fe) {
      fe = newTraffic();
      this.frontends.set(e.frontend, fe);
    }
    record(fe, e, now);
    if (e.backend === undefined) return;
    const be = this.backendRecord(e.backend);
    record(be.traffic, e, now);
    // the queue held queuePos requests when this one joined it: queuePos + 1 at that moment
    if (e.queuePos >= 0 && !e.serverQueued && e.queuePos + 1 > be.qmax) be.qmax = e.queuePos + 1;
    if (e.server !== undefined) record(this.serverRecord(be, e.server).traffic, e, now, true);
  }

  private backendRecord(id: string): BackendRecord {
    let b = this.backends.get(id);
    if (!b) {
      const now = this.clock.now();
      b = {
        traffic: newTraffic(),
        servers: new Map(),
        smax: 0,
        qmax: 0,
        bound: undefined,
        unbind: undefined,
        usable: true,
        changedAt: now,
        downSince: -1,
        downtime: 0,
        chkdown: 0,
      };
      this.backends.set(id, b);
    }
    return b;
  }

  private serverRecord(b: BackendRecord, id: string): ServerRecord {
    let s = b.servers.get(id);
    if (!s) {
      s = {
        traffic: newTraffic(),
        changedAt: this.clock.now(),
        downSince: -1,
        downtime: 0,
        chkfail: 0,
        chkdown: 0,
        check: undefined,
      };
      b.servers.set(id, s);
    }
    return s;
  }

  private change(e: ProxyChangeEvent): void {
    const now = this.clock.now();
    const s = this.serverRecord(this.backendRecord(e.backend), e.id);
    s.changedAt = now;
    if (e.to === "down") {
      s.chkdown++;
      s.downSince = now;
    } else if (s.downSince >= 0) {
      s.downtime += now - s.downSince;
      s.downSince = -1;
    }
  }

  private bind(b: BackendRecord, be: Backend): void {
    if (b.bound === be || !this.attached) return;
    b.unbind?.();
    const onCheck = (e: CheckEvent) => {
      const s = this.serverRecord(b, e.id);
      if (e.result.status === "down") s.chkfail++;
      const m = /\b([1-5]\d\d)\b/.exec(e.result.reason);
      s.check = {
        status: e.result.code,
        code: e.result.code.startsWith("L7") && m ? Number(m[1]) : undefined,
        duration: Math.round(e.duration),
        desc: e.result.reason,
        at: this.clock.now(),
      };
    };
    be.checker.on("check", onCheck);
    b.bound = be;
    b.unbind = () => be.checker.off("check", onCheck);
  }

  /** Everything now, as plain rows. */
  snapshot(): StatsSnapshot {
    const now = this.clock.now();
    const sec = (ms: number) => Math.max(0, Math.floor(ms / 1000));
    const frontends: FrontendRow[] = this.proxy.frontendInfo().map((f) => {
      const traffic = this.frontends.get(f.id) ?? newTraffic();
      return {
        id: f.id,
        mode: f.mode,
        status: "OPEN",
        scur: f.sessions.cur,
        smax: f.sessions.max,
        slim: f.maxconn,
        connTot: f.sessions.total,
        rate: rateOf(traffic.rate, now),
        traffic,
      };
    });
    const backends: BackendRow[] = [];
    for (const id of this.proxy.backendIds()) {
      const be = this.proxy.backend(id);
      const b = this.backendRecord(id);
      this.bind(b, be);
      const servers: ServerRow[] = [];
      let weight = 0;
      let bckWeight = 0;
      let act = 0;
      let bck = 0;
      let scur = 0;
      for (const sv of be.pool.servers) {
        const r = this.serverRecord(b, sv.id);
        const q = be.serverQueue(sv.id);
        const st = be.checker.status(sv.id);
        const hc = be.cfg.healthCheck;
        const usable = sv.state === "up" && sv.weight > 0;
        if (usable) {
          if (sv.backup) {
            bck++;
            bckWeight += sv.weight;
          } else {
            act++;
            weight += sv.weight;
          }
        }
        scur += sv.inFlight;
        const check: CheckInfo | undefined = r.check && {
          status: r.check.status,
          code: r.check.code,
          duration: r.check.duration,
          desc: r.check.desc,
          ago: sec(now - r.check.at),
        };
        servers.push({
          backend: id,
          id: sv.id,
          addr: `${sv.address ?? ""}:${sv.port ?? ""}`,
          status: st || sv.state !== "up" ? (STATUS[sv.state] as RowStatus) : "no check",
          transition: transition(sv.state, st?.health, hc.rise ?? 2, hc.fall ?? 3),
          lastchg: sec(now - r.changedAt),
          downtime: sec(r.downtime + (r.downSince >= 0 ? now - r.downSince : 0)),
          weight: sv.weight,
          uweight: sv.initialWeight,
          backup: sv.backup,
          scur: sv.inFlight,
          smax: sv.stats.peakInFlight,
          slim: sv.maxConn,
          qcur: q?.length ?? 0,
          qmax: q?.peak ?? 0,
          qlimit: q?.maxQueue ?? 0,
          lbtot: sv.stats.selected,
          chkfail: r.chkfail,
          chkdown: r.chkdown,
          check,
          rise: hc.rise ?? 2,
          fall: hc.fall ?? 3,
          health: st?.health ?? 0,
          rate: rateOf(r.traffic.rate, now),
          lastsess: r.traffic.lastSess < 0 ? -1 : sec(now - r.traffic.lastSess),
          traffic: r.traffic,
        });
      }
      // a removed server's counters go with it (as in HAProxy), so add/remove churn does not grow this map
      for (const sid of b.servers.keys()) if (!be.pool.get(sid)) b.servers.delete(sid);
      const usable = act + bck > 0;
      if (act === 0) weight = bckWeight; // HAProxy: backups carry the backend's weight only while no active is up
      if (usable !== b.usable) {
        b.usable = usable;
        b.changedAt = now;
        if (!usable) {
          b.chkdown++;
          b.downSince = now;
        } else if (b.downSince >= 0) {
          b.downtime += now - b.downSince;
          b.downSince = -1;
        }
      }
      const qcur = be.queue.length;
      if (scur > b.smax) b.smax = scur;
      if (qcur > b.qmax) b.qmax = qcur;
      backends.push({
        id,
        mode: be.cfg.mode,
        algo: be.pool.algorithmName,
        status: usable ? "UP" : "DOWN",
        lastchg: sec(now - b.changedAt),
        downtime: sec(b.downtime + (b.downSince >= 0 ? now - b.downSince : 0)),
        weight,
        act,
        bck,
        scur,
        smax: Math.max(b.smax, ...servers.map((s) => s.smax)),
        qcur,
        qmax: b.qmax,
        qlimit: be.cfg.maxqueue,
        chkdown: b.chkdown,
        rate: rateOf(b.traffic.rate, now),
        lastsess: b.traffic.lastSess < 0 ? -1 : sec(now - b.traffic.lastSess),
        traffic: b.traffic,
        servers,
      });
    }
    return { at: Date.now(), uptime: sec(now - this.startedAt), pid: process.pid, frontends, backends };
  }
}
