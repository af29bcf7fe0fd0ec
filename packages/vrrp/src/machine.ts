/**
 * The pure RFC 5798 §6 state machine, with keepalived's extensions: (config, state, event, now) → (state,
 * actions). Time is an argument (ms); the shell owns the one timer the machine asks for with `setTimer`.
 * Over 350 lines: one transition function per RFC state plus keepalived's extensions (preempt delay, split-brain
 * answers, owner conflicts, rate-limited answers); they share helpers and read best side by side.
 */
import { compareAddresses } from "./address.js";
import type { Advert, VrrpVersion } from "./codec.js";

export type VrrpState = "initialize" | "backup" | "master" | "fault";

export interface MachineConfig {
  version: VrrpVersion;
  vrid: number;
  /** configured Advertisement_Interval, ms */
  advertInterval: number;
  /** this router's primary address on the segment (ties between masters go to the higher one) */
  primaryAddress: string;
  /** RFC Preempt_Mode; keepalived `nopreempt` is `preempt: false`. Default true. */
  preempt?: boolean;
  /** keepalived `preempt_delay`, ms: how long a backup keeps accepting a lower-priority master first */
  preemptDelay?: number;
  /** keepalived `lower_prio_no_advert`: a master stays silent when it hears a lower priority (default false) */
  lowerPrioNoAdvert?: boolean;
  /**
   * A master answers a lower-priority advert (an advert and a GARP burst) at most once per this many ms; the
   * adverts in between are ignored, so a flood of them costs a decode each and nothing more. Default: the
   * advert interval (the master's own adverts already go out that often).
   */
  lowerPrioAnswerInterval?: number;
  /**
   * keepalived `higher_prio_send_advert`: a master stepping down because of a higher-priority advert first sends
   * one advert of its own priority, so the winner (a keepalived or lbkit master answering lower priorities)
   * re-announces at once and clients that followed this node during a split brain move back. Default true.
   */
  higherPrioSendAdvert?: boolean;
  /**
   * RFC 5798 Accept_Mode, carried to the `addVips` action for the VIP mover. Default true, keepalived's behaviour
   * without `vrrp_strict` (the RFC's default is false); the address owner always accepts.
   */
  acceptMode?: boolean;
}

/** Why a state was entered, keepalived notify_* style. */
export type TransitionReason =
  | "startup"
  | "address-owner"
  | "master-down-timer"
  | "peer-resigned"
  | "higher-priority"
  | "equal-priority-higher-address"
  | "handover"
  | "fault"
  | "fault-cleared"
  | "shutdown"
  | "sync-group";

export type MachineEvent =
  | { type: "startup" }
  | { type: "shutdown" }
  /** a validated advert of our VRID from `src` (its IP source) */
  | { type: "advert"; src: string; advert: Advert }
  /** the deadline the machine asked for has come */
  | { type: "timer" }
  /** the effective priority changed (base + tracked deltas, see `effectivePriority`) */
  | { type: "priority"; priority: number }
  /** a tracked interface/track entered or left fault */
  | { type: "fault"; fault: boolean }
  /** planned handover: resign mastership now (priority-0 advert) and stay backup at `priority` */
  | { type: "handover"; priority: number }
  /** sync group: hold = a backup whose Master_Down_Timer fires waits (`ready`) instead of taking over */
  | { type: "hold"; hold: boolean }
  /**
   * sync group: follow a member's transition now. `resign`: leaving master, send a priority-0 advert first (the
   * member handed over, so peers take this VRID after Skew_Time too; keepalived's forced backup)
   */
  | { type: "sync"; to: "master" | "backup"; resign?: boolean };

export type MachineAction =
  | { type: "sendAdvert"; priority: number }
  | { type: "addVips"; acceptMode: boolean }
  | { type: "removeVips" }
  /**
   * gratuitous ARP / unsolicited NA for the VIPs (a burst; the shell applies delay/repeat/refresh); cause
   * "lower-priority": the answer to a lower-priority advert (keepalived garp_lower_prio_repeat/_delay)
   */
  | { type: "announce"; cause?: "lower-priority" }
  /** the single pending deadline (ms, same clock as `now`); undefined cancels it */
  | { type: "setTimer"; at: number | undefined }
  | { type: "emit"; event: "master" | "backup" | "fault" | "stop"; reason: TransitionReason; from: VrrpState }
  | { type: "emit"; event: "priority"; from: number; to: number }
  /** a held backup's Master_Down_Timer fired: it is ready to become master with its sync group */
  | { type: "ready" };

export interface MachineState {
  state: VrrpState;
  /** the priority in use: base + tracked deltas, or the handover priority */
  priority: number;
  /** Master_Adver_Interval: ours, or the one learned from the master's adverts (v3) */
  masterAdverInterval: number;
  /** the pending deadline (Adver_Timer as master, Master_Down_Timer as backup) */
  timerAt: number | undefined;
  /** keepalived preempt_time: when a backup may stop deferring to a lower-priority master */
  preemptAt: number | undefined;
  /** a tracked fault is present */
  fault: boolean;
  /** the address of the master we last heard (or ours as master) */
  masterAddress: string | undefined;
  /** the master we heard last sent priority 0 */
  peerResigned: boolean;
  /** in a sync group: do not take over alone (keepalived prefers backup to thrashing) */
  hold: boolean;
  /** held, and the Master_Down_Timer has fired */
  ready: boolean;
  /** when this master last answered a lower-priority advert (see `lowerPrioAnswerInterval`) */
  lowerPrioAnsweredAt?: number;
}

export interface Step {
  state: MachineState;
  actions: MachineAction[];
}

/** Skew_Time, ms: RFC 5798 ((256 − priority) × Master_Adver_Interval) / 256; v2 (RFC 3768, keepalived) (256 − priority)/256 s. */
export function skewTime(version: VrrpVersion, priority: number, masterAdverInterval: number): number {
  return ((256 - priority) * (version === 3 ? masterAdverInterval : 1000)) / 256;
}

/** Master_Down_Interval, ms: 3 × Master_Adver_Interval + Skew_Time. */
export function masterDownInterval(
  version: VrrpVersion,
  priority: number,
  masterAdverInterval: number,
): number {
  return 3 * masterAdverInterval + skewTime(version, priority, masterAdverInterval);
}

/** Effective priority: base + tracked deltas, clamped 1..254; the address owner (255) stays 255. */
export function effectivePriority(base: number, deltas: Iterable<number>): number {
  if (base === 255) return 255;
  let p = base;
  for (const d of deltas) p += d;
  return Math.min(254, Math.max(1, p));
}

export function initialState(config: MachineConfig, priority: number): MachineState {
  return {
    state: "initialize",
    priority,
    masterAdverInterval: config.advertInterval,
    timerAt: undefined,
    preemptAt: undefined,
    fault: false,
    masterAddress: undefined,
    peerResigned: false,
    hold: false,
    ready: false,
  };
}

function emit(
  event: "master" | "backup" | "fault" | "stop",
  reason: TransitionReason,
  from: VrrpState,
): MachineAction {
  return { type: "emit", event, reason, from };
}

function becomeMaster(c: MachineConfig, s: MachineState, now: number, reason: TransitionReason): Step {
  const at = now + c.advertInterval;
  return {
    state: {
      ...s,
      state: "master",
      timerAt: at,
      masterAdverInterval: c.advertInterval,
      masterAddress: c.primaryAddress,
      preemptAt: undefined,
      peerResigned: false,
      ready: false,
      lowerPrioAnsweredAt: undefined,
    },
    actions: [
      { type: "sendAdvert", priority: s.priority },
      { type: "addVips", acceptMode: s.priority === 255 || (c.acceptMode ?? true) },
      { type: "announce" },
      { type: "setTimer", at },
      emit("master", reason, s.state),
    ],
  };
}

function becomeBackup(
  c: MachineConfig,
  s: MachineState,
  now: number,
  reason: TransitionReason,
  masterAdverInterval = c.advertInterval,
  masterAddress?: string,
): Step {
  const at = now + masterDownInterval(c.version, s.priority, masterAdverInterval);
  const actions: MachineAction[] = [];
  if (s.state === "master") actions.push({ type: "removeVips" });
  actions.push({ type: "setTimer", at }, emit("backup", reason, s.state));
  return {
    state: {
      ...s,
      state: "backup",
      timerAt: at,
      masterAdverInterval,
      masterAddress,
      peerResigned: false,
      ready: false,
    },
    actions,
  };
}

function becomeFault(s: MachineState, reason: TransitionReason): Step {
  const actions: MachineAction[] = [];
  if (s.state === "master") actions.push({ type: "sendAdvert", priority: 0 }, { type: "removeVips" });
  actions.push({ type: "setTimer", at: undefined }, emit("fault", reason, s.state));
  return { state: { ...s, state: "fault", timerAt: undefined, masterAddress: undefined }, actions };
}

/** Whether an advert of priority `p` from `src` beats us (RFC 5798 §6.4.3: higher priority, or equal and higher address). */
function beats(c: MachineConfig, s: MachineState, p: number, src: string): "priority" | "address" | false {
  if (p > s.priority) return "priority";
  if (p === s.priority && compareAddresses(src, c.primaryAddress) > 0) return "address";
  return false;
}

export function step(c: MachineConfig, s: MachineState, e: MachineEvent, now: number): Step {
  const preempt = c.preempt ?? true;
  switch (e.type) {
    case "startup": {
      if (s.state !== "initialize") return { state: s, actions: [] };
      if (s.fault) return becomeFault(s, "fault");
      if (s.priority === 255) return becomeMaster(c, s, now, "address-owner");
      return becomeBackup(c, s, now, "startup");
    }
    case "shutdown": {
      if (s.state === "initialize") return { state: s, actions: [] };
      const actions: MachineAction[] = [];
      if (s.state === "master") actions.push({ type: "sendAdvert", priority: 0 }, { type: "removeVips" });
      actions.push({ type: "setTimer", at: undefined }, emit("stop", "shutdown", s.state));
      return { state: { ...s, state: "initialize", timerAt: undefined, masterAddress: undefined }, actions };
    }
    case "fault": {
      const next = { ...s, fault: e.fault };
      if (e.fault && s.state !== "fault" && s.state !== "initialize") return becomeFault(next, "fault");
      if (!e.fault && s.state === "fault") {
        if (s.priority === 255) return becomeMaster(c, next, now, "fault-cleared");
        return becomeBackup(c, next, now, "fault-cleared");
      }
      return { state: next, actions: [] };
    }
    case "priority": {
      if (e.priority === s.priority) return { state: s, actions: [] };
      const next = { ...s, priority: e.priority };
      const actions: MachineAction[] = [
        { type: "emit", event: "priority", from: s.priority, to: e.priority },
      ];
      // a master tells the segment at once, so a better backup can preempt without waiting an interval
      if (s.state === "master") actions.push({ type: "sendAdvert", priority: e.priority });
      return { state: next, actions };
    }
    case "hold":
      // released while ready: nothing else will fire, take over now
      if (!e.hold && s.ready && s.state === "backup")
        return becomeMaster(c, { ...s, hold: false }, now, "master-down-timer");
      return { state: { ...s, hold: e.hold, ready: e.hold && s.ready }, actions: [] };
    case "sync": {
      if (e.to === "master" && s.state === "backup") return becomeMaster(c, s, now, "sync-group");
      if (e.to === "backup" && s.state === "master") {
        const b = becomeBackup(c, s, now, "sync-group");
        if (!e.resign) return b;
        return { state: b.state, actions: [{ type: "sendAdvert", priority: 0 }, ...b.actions] };
      }
      return { state: s, actions: [] };
    }
    case "handover": {
      const next = { ...s, priority: e.priority };
      const actions: MachineAction[] = [];
      if (e.priority !== s.priority)
        actions.push({ type: "emit", event: "priority", from: s.priority, to: e.priority });
      if (s.state !== "master") return { state: next, actions };
      // resign like a shutdown (priority 0: backups take over after Skew_Time) but stay a backup
      actions.push({ type: "sendAdvert", priority: 0 });
      const b = becomeBackup(c, next, now, "handover");
      return { state: b.state, actions: [...actions, ...b.actions] };
    }
    case "timer": {
      if (s.timerAt === undefined) return { state: s, actions: [] };
      // a host timer that fires a little early is re-armed for the same deadline
      if (now < s.timerAt) return { state: s, actions: [{ type: "setTimer", at: s.timerAt }] };
      if (s.state === "master") {
        const at = now + c.advertInterval;
        return {
          state: { ...s, timerAt: at },
          actions: [
            { type: "sendAdvert", priority: s.priority },
            { type: "setTimer", at },
          ],
        };
      }
      if (s.state === "backup") {
        if (s.hold) return { state: { ...s, timerAt: undefined, ready: true }, actions: [{ type: "ready" }] };
        return becomeMaster(c, s, now, s.peerResigned ? "peer-resigned" : "master-down-timer");
      }
      return { state: { ...s, timerAt: undefined }, actions: [] };
    }
    case "advert":
      return onAdvert(c, s, e.src, e.advert, now, preempt);
  }
}

function onAdvert(
  c: MachineConfig,
  s: MachineState,
  src: string,
  a: Advert,
  now: number,
  preempt: boolean,
): Step {
  if (s.state === "backup") {
    if (a.priority === 0) {
      // the master is leaving: take over after Skew_Time only
      const at = now + skewTime(c.version, s.priority, s.masterAdverInterval);
      return {
        state: { ...s, timerAt: at, peerResigned: true, masterAddress: undefined, ready: false },
        actions: [{ type: "setTimer", at }],
      };
    }
    let preemptAt = s.preemptAt;
    let defer = !preempt || a.priority >= s.priority;
    if (!defer && (c.preemptDelay ?? 0) > 0) {
      // keepalived preempt_delay: keep deferring to a lower-priority master until the delay has passed
      preemptAt ??= now + (c.preemptDelay ?? 0);
      defer = now < preemptAt;
    }
    if (a.priority > s.priority) preemptAt = undefined;
    if (!defer) return { state: { ...s, preemptAt }, actions: [] };
    const masterAdverInterval =
      c.version === 3 ? a.advertInterval || c.advertInterval : s.masterAdverInterval;
    const at = now + masterDownInterval(c.version, s.priority, masterAdverInterval);
    return {
      state: {
        ...s,
        timerAt: at,
        masterAdverInterval,
        preemptAt,
        masterAddress: src,
        peerResigned: false,
        ready: false,
      },
      actions: [{ type: "setTimer", at }],
    };
  }
  if (s.state === "master") {
    if (a.priority === 0) {
      // another router resigned: re-assert ourselves at once
      const at = now + c.advertInterval;
      return {
        state: { ...s, timerAt: at },
        actions: [
          { type: "sendAdvert", priority: s.priority },
          { type: "setTimer", at },
        ],
      };
    }
    const why = beats(c, s, a.priority, src);
    if (why) {
      const interval = c.version === 3 ? a.advertInterval || c.advertInterval : c.advertInterval;
      const b = becomeBackup(
        c,
        s,
        now,
        why === "priority" ? "higher-priority" : "equal-priority-higher-address",
        interval,
        src,
      );
      // keepalived higher_prio_send_advert: the winner hears a lower priority and re-announces the VIPs
      if (c.higherPrioSendAdvert ?? true)
        return { state: b.state, actions: [{ type: "sendAdvert", priority: s.priority }, ...b.actions] };
      return b;
    }
    // keepalived beyond the RFC: a lower-priority master exists (split brain); answer now and re-announce, at
    // most once per lowerPrioAnswerInterval (a flood of lower-priority adverts must not become a flood of answers)
    if (c.lowerPrioNoAdvert) return { state: s, actions: [] };
    const last = s.lowerPrioAnsweredAt;
    if (last !== undefined && now >= last && now - last < (c.lowerPrioAnswerInterval ?? c.advertInterval))
      return { state: s, actions: [] };
    const at = now + c.advertInterval;
    return {
      state: { ...s, timerAt: at, lowerPrioAnsweredAt: now },
      actions: [
        { type: "sendAdvert", priority: s.priority },
        { type: "announce", cause: "lower-priority" },
        { type: "setTimer", at },
      ],
    };
  }
  return { state: s, actions: [] };
}
