/**
 * The imperative shell of one virtual router (keepalived's vrrp_instance): feeds packets, timers, tracker
 * changes and operator calls into the pure machine and performs its actions through the advert sender, the VIP
 * host and the announcer. It only wires; each concept lives in its own file.
 */
import { emitError, systemTime, type Time } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { admit } from "./admit.js";
import { screenAdvert } from "./advert-policy.js";
import { AdvertSender } from "./advert-sender.js";
import type { ReceivedPacket } from "./codec.js";
import { type VrrpConfig, validateConfig } from "./config.js";
import { Deadline } from "./deadline.js";
import { asVrrpError, check, VrrpError, type VrrpErrorCode } from "./errors.js";
import { VipAnnouncer } from "./garp.js";
import { type AdvertListener, awaitPeerMaster } from "./handover.js";
import type { HandoverOptions, VrrpEvents, VrrpInstanceOptions, VrrpStats } from "./instance-types.js";
import { changeOf, checkInstanceOptions, machineConfigOf } from "./instance-types.js";
import { Lifecycle } from "./lifecycle.js";
import * as m from "./machine.js";
import { PriorityInputs } from "./priority-inputs.js";
import { TransportSlot } from "./transports/slot.js";
import { readInterface, VipHost } from "./vip-host.js";
import { WitnessTracker } from "./witness.js";

export class VrrpInstance extends EventEmitter<VrrpEvents> {
  readonly config: VrrpConfig;
  readonly id: string;
  readonly stats: VrrpStats = { advertsSent: 0, advertsReceived: 0, discarded: {}, becameMaster: 0 };
  private readonly opts: VrrpInstanceOptions;
  private readonly time: Time;
  private readonly vips: VipHost;
  private readonly garp: VipAnnouncer | undefined;
  private readonly sender: AdvertSender;
  private readonly deadline: Deadline;
  private readonly inputs: PriorityInputs;
  private untrack: (() => void) | undefined;
  private readonly slot: TransportSlot;
  private machine: m.MachineConfig | undefined;
  private s: m.MachineState;
  private syncHold = false;
  private work: Promise<void> = Promise.resolve();
  private garps: Promise<void> = Promise.resolve();
  private readonly lifecycle = new Lifecycle(
    () => this.open(),
    () => this.release(),
  );
  private readonly advertListeners = new Set<AdvertListener>();
  /** the VIPs' addresses, for the receive policy (advert-policy.ts) */
  private readonly vipList: string[];
  private configErrorAt: number | undefined;

  constructor(options: VrrpInstanceOptions) {
    super();
    this.config = validateConfig(options);
    this.opts = options;
    this.id = checkInstanceOptions(options, this.config);
    this.time = options.time ?? systemTime;
    this.vipList = this.config.virtualAddresses.map((v) => v.address);
    this.slot = new TransportSlot(options.transport, options.interface);
    const witness = options.witness && new WitnessTracker(options.witness, this.time);
    this.inputs = new PriorityInputs(this.config.priority, [...(options.tracks ?? [])], witness);
    this.vips = new VipHost({
      config: this.config,
      interface: options.interface,
      mover: options.vipMover,
      vmac: options.vmac,
    });
    const addresses = this.config.virtualAddresses.map((v) => v.address);
    const garp = options.garp ?? (options.interface ? {} : false);
    this.garp =
      garp === false ? undefined : new VipAnnouncer(garp, addresses, this.time, (e) => this.fail(e));
    this.sender = new AdvertSender(
      this.config,
      () => this.stats.advertsSent++,
      (e) => this.fail(e),
    );
    this.deadline = new Deadline(this.time, () => this.apply({ type: "timer" }));
    this.s = m.initialState(machineConfigOf(this.config, options, "0.0.0.0"), this.config.priority);
  }

  get state(): m.VrrpState {
    return this.s.state;
  }
  /** the priority in use (base + tracked deltas, or the handover priority) */
  get priority(): number {
    return this.s.priority;
  }
  /** the current master's address as far as this node knows */
  get master(): string | undefined {
    return this.s.masterAddress;
  }
  /**
   * The last valid advert of this VRID heard from another router: its source, priority and how many ms ago.
   * A node that has just become master can tell a live previous master (heard within about an advert interval:
   * it was preempted or resigned) from a dead one (silent for the Master_Down_Interval).
   */
  get lastAdvert(): { from: string; priority: number; ago: number } | undefined {
    const h = this.heard;
    return h && { from: h.from, priority: h.priority, ago: this.time.now() - h.at };
  }
  private heard: { from: string; priority: number; at: number } | undefined;
  /** this node's primary address (the advert source) once started */
  get address(): string | undefined {
    return this.slot.current?.sourceAddress;
  }
  /** the Master_Down_Interval in force, ms */
  get masterDownInterval(): number {
    return m.masterDownInterval(this.config.version, this.s.priority, this.s.masterAdverInterval);
  }
  /** the VIPs as "address/prefix" */
  get virtualAddresses(): string[] {
    return this.config.virtualAddresses.map((v) => `${v.address}/${v.prefixLength}`);
  }
  /** held by a sync group with its Master_Down_Timer expired */
  get ready(): boolean {
    return this.s.ready;
  }

  /**
   * Opens the transport (unless one was passed in), removes stale VIPs, and starts as backup (or master, for the
   * address owner). A failed start leaves the instance as never started; start() while running is a no-op.
   */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /** Leaves cleanly: a priority-0 advert if master, every VIP removed, what the instance opened closed. */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private async open(): Promise<void> {
    const c = this.config;
    // the interface is read once (index, MAC, flags, addresses) for the transport, the VIPs and the announcer
    const link = await readInterface(this.opts.interface);
    await this.vips.start(link);
    const exclude = this.vips.managed.map((v) => v.address);
    const t = await this.slot.open(c, exclude, (p) => this.receive(p), link);
    await this.garp?.start(this.vips.interface, this.opts.vmac ? undefined : link);
    // resolve the interface and open sockets now, so the first takeover does not wait for them; a crashed
    // earlier run may have left the VIPs behind: a backup must not hold them
    await this.vips.prepare().catch((e: unknown) => this.fail(e, "ERR_VIP"));
    this.machine = machineConfigOf(c, this.opts, t.sourceAddress);
    this.untrack = this.inputs.subscribe(() => this.reevaluate());
    this.s = {
      ...m.initialState(this.machine, this.inputs.priority),
      fault: this.inputs.fault,
      hold: this.syncHold,
    };
    await this.sender.attach(t, this.machine, this.s);
    await this.inputs.witness?.start();
    this.apply({ type: "startup" });
    await this.work;
  }

  /** Undoes whatever open() did (also after a failed or partial open). */
  private async release(): Promise<void> {
    this.untrack?.();
    this.untrack = undefined;
    await this.inputs.witness?.stop();
    this.apply({ type: "shutdown" });
    this.machine = undefined;
    this.deadline.cancel();
    this.garp?.quiet();
    await this.sender.sends;
    await this.work;
    await this.garps;
    if (this.slot.current) await this.vips.remove().catch((e: unknown) => this.fail(e, "ERR_VIP"));
    await this.garp?.stop();
    await this.vips.stop();
    this.sender.attach(undefined);
    await this.slot.close();
  }

  private receive(p: ReceivedPacket): void {
    const r = admit(p, this.config, this.slot.current, this.time);
    if (!r.ok) {
      if (r.reason === "vrid") return;
      this.stats.discarded[r.reason] = (this.stats.discarded[r.reason] ?? 0) + 1;
      this.emit("discard", { reason: r.reason, detail: r.detail, src: p.src });
      return;
    }
    const d = screenAdvert({ vips: this.vipList, priority: this.s.priority }, p.src, r.advert);
    if (d) {
      this.stats.discarded[d.reason] = (this.stats.discarded[d.reason] ?? 0) + 1;
      this.emit("discard", { reason: d.reason, detail: d.detail, src: p.src });
      // a configuration error is reported as an error too, at most once a minute (every advert is a discard)
      if (d.configError && !(this.configErrorAt !== undefined && r.at - this.configErrorAt < 60_000)) {
        this.configErrorAt = r.at;
        emitError(this, new VrrpError("ERR_CONFLICT", d.detail));
      }
      return;
    }
    this.stats.advertsReceived++;
    this.heard = { from: p.src, priority: r.advert.priority, at: r.at };
    for (const l of [...this.advertListeners]) l(p.src, r.advert);
    this.apply({ type: "advert", src: p.src, advert: r.advert }, r.at);
  }

  /**
   * Planned handover: drop to a low priority and resign (a priority-0 advert, VIPs removed), then resolve once
   * another router advertises as master, so the caller can drain. Stays at the low priority until `resume()`.
   * Rejects (and resumes) when no peer takes over within the timeout.
   */
  async handover(o: HandoverOptions = {}): Promise<{ master: string }> {
    if (!this.machine)
      throw new VrrpError("ERR_NOT_RUNNING", `vrrp: ${this.id} is not running; start() it first`);
    const priority = check.int("priority", o.priority ?? 1, 1, 254);
    const timeout = check.ms("timeout", o.timeout ?? 2 * this.masterDownInterval + 1000, 0);
    const listen = (fn: AdvertListener) => {
      this.advertListeners.add(fn);
      return () => this.advertListeners.delete(fn);
    };
    const peer = awaitPeerMaster(this.id, this.time, timeout, listen, () => this.resume());
    this.inputs.handoverPriority = priority;
    this.apply({ type: "handover", priority });
    await this.work;
    return peer;
  }

  /** Ends a handover: back to the tracked priority (a better priority preempts again). */
  resume(): void {
    if (this.inputs.handoverPriority === undefined) return;
    this.inputs.handoverPriority = undefined;
    this.reevaluate();
  }

  /** Sync groups: a held backup does not take over alone; it emits `ready` and waits for `syncTo("master")`. */
  setSyncHold(hold: boolean): void {
    this.syncHold = hold;
    this.apply({ type: "hold", hold });
  }

  /** Sync groups: follow a member's transition now; `resign` leaves master with a priority-0 advert. */
  syncTo(state: "master" | "backup", o: { resign?: boolean } = {}): void {
    this.apply({ type: "sync", to: state, resign: o.resign });
  }

  /** Puts the instance in (or out of) fault for `source` (sync groups and shells use this). */
  setFault(source: string, fault: boolean): void {
    this.inputs.setFault(source, fault);
    this.reevaluate();
  }

  /** what holds this instance in fault: "witness", "track", or `setFault` sources */
  faultSources(): string[] {
    return this.inputs.faultSources();
  }

  private reevaluate(): void {
    if (!this.machine) return;
    const fault = this.inputs.fault;
    if (fault !== this.s.fault) this.apply({ type: "fault", fault });
    const p = this.inputs.priority;
    if (p !== this.s.priority) this.apply({ type: "priority", priority: p });
  }

  private apply(e: m.MachineEvent, now = this.time.now()): void {
    if (!this.machine) return;
    const r = m.step(this.machine, this.s, e, now);
    this.s = r.state;
    for (const a of r.actions) this.perform(a);
  }

  private fail(e: unknown, code: VrrpErrorCode = "ERR_TRANSPORT"): void {
    emitError(this, asVrrpError(code, this.id, e));
  }

  private perform(a: m.MachineAction): void {
    switch (a.type) {
      case "setTimer":
        // the backup's Master_Down_Timer (the takeover) gets 2 ms of margin, the master's advert timer 1 ms
        if (a.at === undefined) this.deadline.cancel();
        else this.deadline.arm(a.at, this.s.state === "backup" ? 2 : 1);
        return;
      case "sendAdvert":
        this.sender.send(a.priority);
        return;
      case "addVips":
        this.enqueue(() => this.vips.add(a.acceptMode), "ERR_VIP");
        return;
      case "removeVips":
        this.garp?.quiet();
        this.enqueue(() => this.vips.remove(), "ERR_VIP");
        return;
      case "announce": {
        // keepalived's order: the advert, then the VIPs, then the announcements (a neighbour that learns the
        // VIP's new MAC must find the address there); announcements queue apart from later VIP work
        const garp = this.garp;
        if (!garp) return;
        const ticket = garp.ticket;
        const ready = this.work;
        // cause "lower-priority": keepalived's answer to a lower-priority master (garp_lower_prio_repeat/_delay)
        const burst = a.cause === "lower-priority" ? () => garp.answer(ticket) : () => garp.announce(ticket);
        this.garps = this.garps.then(() => ready).then(burst);
        return;
      }
      case "ready":
        this.emit("ready", { id: this.id });
        return;
      case "emit": {
        if (a.event === "priority") {
          this.emit("priority", { id: this.id, from: a.from, to: a.to });
          return;
        }
        if (a.event === "master") this.stats.becameMaster++;
        const change = changeOf(this.id, a, this.s);
        // the change is reported once the VIP work queued before it is done (notify after the IPs are up)
        this.enqueue(async () => void this.emit("change", change));
        return;
      }
    }
  }

  /** VIP work runs after the adverts already queued have left (keepalived's order: advert, VIPs, GARP). */
  private enqueue(fn: () => Promise<void>, code: VrrpErrorCode = "ERR_VIP"): void {
    const sent = this.sender.sends;
    this.work = this.work
      .then(() => sent)
      .then(fn)
      .catch((e: unknown) => this.fail(e, code));
  }
}
