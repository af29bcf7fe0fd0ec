/**
 * The BFD session state machine (RFC 5880 §6.2, §6.8), asynchronous mode, pure: received packets and ticks of
 * the injected time in, actions out (send a packet, report a state change). No sockets and no timers: the shell
 * asks `deadline` when to call `tick` next and performs the returned actions.
 *
 * Timers (§6.8.2–6.8.4): packets go out every max(our DesiredMinTx, their RequiredMinRx), jittered to 75–100 %
 * (75–90 % with a detect multiplier of 1); the session goes Down when nothing arrives for their DetectMult ×
 * max(our RequiredMinRx, their DesiredMinTx). While not Up, DesiredMinTx is at least one second (§6.8.3), so
 * coming Up changes a parameter, which starts a Poll Sequence (P set until the peer answers with F).
 */
import type { BfdDiag, BfdPacket, BfdState } from "./bfd-codec.js";

export interface BfdTimers {
  /** ms between our packets once Up (RFC bfd.DesiredMinTxInterval) */
  desiredMinTx: number;
  /** the fastest ms we accept packets at (bfd.RequiredMinRxInterval) */
  requiredMinRx: number;
  /** packets missed before the session goes Down (bfd.DetectMult) */
  detectMult: number;
}

export type BfdAction =
  | { type: "send"; packet: BfdPacket }
  | { type: "change"; from: BfdState; to: BfdState; diag: BfdDiag };

/** §6.8.3: the slow rate while the session is not Up. */
export const BFD_SLOW_TX_MS = 1000;

export class BfdMachine {
  state: BfdState = "Down";
  diag: BfdDiag = "none";
  remoteDiscriminator = 0;
  remoteState: BfdState = "Down";
  /** their RequiredMinRx, ms (RFC initial value 1 µs) */
  remoteMinRx = 0.001;
  /** their DesiredMinTx, ms */
  remoteDesiredMinTx = 0;
  remoteDetectMult = 0;
  pollActive = false;
  /** ms of the injected clock when the next periodic packet is due */
  nextTxAt: number;
  /** ms when the detection time expires; undefined until a packet has arrived */
  detectAt: number | undefined;
  /** what we advertised last (to notice a change that needs a Poll Sequence) */
  private advertised: { tx: number; rx: number };

  constructor(
    readonly localDiscriminator: number,
    readonly timers: BfdTimers,
    now: number,
  ) {
    this.nextTxAt = now;
    this.advertised = { tx: this.desiredMinTx, rx: timers.requiredMinRx };
  }

  /** bfd.DesiredMinTxInterval as advertised now: the configured value once Up, at least 1 s otherwise. */
  get desiredMinTx(): number {
    return this.state === "Up"
      ? this.timers.desiredMinTx
      : Math.max(this.timers.desiredMinTx, BFD_SLOW_TX_MS);
  }

  /** ms between periodic packets (before jitter); Infinity when the peer asked for none (RequiredMinRx 0). */
  get txInterval(): number {
    return this.remoteMinRx === 0 ? Number.POSITIVE_INFINITY : Math.max(this.desiredMinTx, this.remoteMinRx);
  }

  /** The detection time in ms (asynchronous mode), or undefined before the peer's timers are known. */
  get detectionTime(): number | undefined {
    if (this.remoteDetectMult === 0) return undefined;
    return this.remoteDetectMult * Math.max(this.timers.requiredMinRx, this.remoteDesiredMinTx);
  }

  /** When the shell must call tick() next. */
  get deadline(): number {
    return Math.min(this.nextTxAt, this.detectAt ?? Number.POSITIVE_INFINITY);
  }

  /** The packet we would send now (periodic, or `final` in answer to a Poll). */
  packet(final = false): BfdPacket {
    return {
      version: 1,
      diag: this.diag,
      state: this.state,
      poll: this.pollActive && !final,
      final,
      controlPlaneIndependent: false,
      authPresent: false,
      demand: false,
      multipoint: false,
      detectMult: this.timers.detectMult,
      myDiscriminator: this.localDiscriminator,
      yourDiscriminator: this.remoteDiscriminator,
      desiredMinTxInterval: Math.round(this.desiredMinTx * 1000),
      requiredMinRxInterval: Math.round(this.timers.requiredMinRx * 1000),
      requiredMinEchoRxInterval: 0,
    };
  }

  /** §6.8.6: a decoded control packet from the peer at `now`. */
  receive(p: BfdPacket, now: number): BfdAction[] {
    if (p.authPresent) return []; // no authentication configured: discard
    if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== this.localDiscriminator) return [];
    if (p.yourDiscriminator === 0 && this.state !== "Down" && this.state !== "AdminDown") return [];
    const actions: BfdAction[] = [];
    const before = this.txInterval;
    this.remoteDiscriminator = p.myDiscriminator;
    this.remoteState = p.state;
    this.remoteMinRx = p.requiredMinRxInterval / 1000;
    this.remoteDesiredMinTx = p.desiredMinTxInterval / 1000;
    this.remoteDetectMult = p.detectMult;
    if (p.final) this.pollActive = false;
    this.detectAt = now + (this.detectionTime ?? 0);
    if (this.state === "AdminDown") return [];
    if (p.state === "AdminDown") {
      if (this.state !== "Down") this.transition("Down", "neighbor-down", now, actions);
    } else if (this.state === "Down") {
      if (p.state === "Down") this.transition("Init", "none", now, actions);
      else if (p.state === "Init") this.transition("Up", "none", now, actions);
    } else if (this.state === "Init") {
      if (p.state === "Init" || p.state === "Up") this.transition("Up", "none", now, actions);
    } else if (p.state === "Down") {
      this.transition("Down", "neighbor-down", now, actions);
    }
    if (p.poll) actions.push({ type: "send", packet: this.packet(true) });
    const after = this.txInterval;
    if (after < before) this.nextTxAt = Math.min(this.nextTxAt, now + after);
    return actions;
  }

  /** Time passed: expire the detection timer, send the periodic packet when due. `jitter` is in [0, 1). */
  tick(now: number, jitter: number): BfdAction[] {
    const actions: BfdAction[] = [];
    if (this.detectAt !== undefined && now >= this.detectAt) {
      this.detectAt = undefined;
      this.remoteDiscriminator = 0; // §6.8.1: reset when nothing arrived for a detection time
      this.pollActive = false;
      if (this.state === "Init" || this.state === "Up")
        this.transition("Down", "detect-expired", now, actions);
    }
    if (now >= this.nextTxAt) {
      const interval = this.txInterval;
      if (Number.isFinite(interval)) actions.push({ type: "send", packet: this.packet() });
      const span = this.timers.detectMult === 1 ? 0.15 : 0.25;
      this.nextTxAt =
        now + (Number.isFinite(interval) ? interval * (0.75 + span * jitter) : this.timers.requiredMinRx);
    }
    return actions;
  }

  /** Take the session administratively down (the peer sees AdminDown and does not count it as a failure). */
  adminDown(now: number): BfdAction[] {
    const actions: BfdAction[] = [];
    if (this.state !== "AdminDown") this.transition("AdminDown", "admin-down", now, actions);
    actions.push({ type: "send", packet: this.packet() }); // tell the peer now: a shell may close right after
    return actions;
  }

  /** Leave AdminDown: the session starts again from Down. */
  adminUp(now: number): BfdAction[] {
    const actions: BfdAction[] = [];
    if (this.state === "AdminDown") this.transition("Down", "none", now, actions);
    return actions;
  }

  private transition(to: BfdState, diag: BfdDiag, now: number, actions: BfdAction[]): void {
    const from = this.state;
    this.state = to;
    this.diag = diag;
    actions.push({ type: "change", from, to, diag });
    const adv = { tx: this.desiredMinTx, rx: this.timers.requiredMinRx };
    // §6.8.3: a changed timer parameter is announced with a Poll Sequence while the session is Up
    if (to === "Up" && (adv.tx !== this.advertised.tx || adv.rx !== this.advertised.rx))
      this.pollActive = true;
    if (to !== "Up") this.pollActive = false;
    this.advertised = adv;
    this.nextTxAt = now; // tell the peer at once
  }
}
