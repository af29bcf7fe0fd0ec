/**
 * The imperative shell of one virtual router (keepalived's vrrp_instance): feeds packets, timers, tracker
 * changes and operator calls into the pure machine and performs its actions through the transport, the VIP
 * mover and the announcer.
 */
import { writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { EventEmitter } from "eventemitter3";
import { canonicalAddress } from "./address.js";
import { screenAdvert } from "./advert-policy.js";
import {
  type Advert,
  AuthType,
  type DiscardReason,
  encodeAdvert,
  passwordAuthData,
  validateAdvert,
} from "./codec.js";
import { type VirtualAddress, type VrrpConfig, type VrrpConfigInput, validateConfig } from "./config.js";
import { VrrpConfigError, VrrpError } from "./errors.js";
import {
  effectivePriority,
  initialState,
  type MachineAction,
  type MachineConfig,
  type MachineEvent,
  type MachineState,
  masterDownInterval,
  step,
  type TransitionReason,
  type VrrpState,
} from "./machine.js";
import { createRawTransport } from "./transports/raw.js";
import type { Transport } from "./transports/transport.js";
import {
  type Announcer,
  createArpAnnouncer,
  createNetlinkVipMover,
  createVmac,
  type VipContext,
  type VipMover,
} from "./vip.js";

/**
 * Anything that moves this router's priority or puts it in fault: a health check, an interface watcher, a
 * custom function. @lbkit/healthcheck produces these; any object of this shape works (no dependency).
 */
export interface Tracker {
  /** added to the base priority while it applies (keepalived `weight`), 0 when it does not */
  readonly delta: number;
  /** true puts the instance in FAULT (keepalived: a tracked interface down, a weight-0 script failing) */
  readonly fault: boolean;
  on(event: "change", fn: () => void): unknown;
  off?(event: "change", fn: () => void): unknown;
}

/** A check that must pass for this node to hold the VIP (e.g. the gateway answers); failing means FAULT. */
export interface Witness {
  check(): Promise<boolean>;
  /** how often to run it, ms (default 1000) */
  interval?: number;
}

export interface GarpOptions {
  /** keepalived garp_master_repeat: announcements per VIP in each burst (default 5) */
  repeat?: number;
  /** keepalived garp_master_delay: a second burst this long after becoming master, ms (default 5000; 0 = none) */
  delay?: number;
  /** keepalived garp_master_refresh: a periodic burst while master, ms (default 0 = off) */
  refresh?: number;
  /** keepalived garp_master_refresh_repeat (default 1) */
  refreshRepeat?: number;
  /** keepalived garp_lower_prio_repeat: announcements per VIP when answering a lower-priority advert (default `repeat`) */
  lowerPrioRepeat?: number;
  /** keepalived garp_lower_prio_delay: a second such burst this long after the answer, ms (default `delay`; 0 = none) */
  lowerPrioDelay?: number;
}

export interface Clock {
  /** monotonic ms */
  now(): number;
}

export interface VrrpInstanceOptions extends VrrpConfigInput {
  /** a name for logs and events (keepalived's instance name) */
  name?: string;
  /** the interface VRRP runs on; required unless both `transport` and `vipMover` are given */
  interface?: string;
  /** default: raw IP protocol 112 on `interface` (multicast, or `unicastPeers`) */
  transport?: Transport;
  /** default: netlink address add/remove on `interface` */
  vipMover?: VipMover;
  /** gratuitous ARP / unsolicited NA; default @lbkit/arp's `announce` on `interface` */
  announcer?: Announcer;
  garp?: GarpOptions;
  tracks?: readonly Tracker[];
  witness?: Witness;
  /** keepalived lower_prio_no_advert */
  lowerPrioNoAdvert?: boolean;
  /** keepalived higher_prio_send_advert: one advert of our priority before stepping down to a higher one (default true) */
  higherPrioSendAdvert?: boolean;
  /**
   * RFC 5798 Accept_Mode. Default true (keepalived without `vrrp_strict`). false: as a non-owner master, the
   * netlink mover drops traffic to the VIPs with an nftables table `lbkit_vrrp_<vrid>` (needs `nft`).
   */
  acceptMode?: boolean;
  /**
   * keepalived `use_vmac`: put the VIPs on a macvlan with the virtual router MAC 00:00:5e:00:01:VRID (created at
   * start on `interface`, removed at stop), so the segment's ARP entry for the VIP never changes on failover.
   * Adverts still leave from `interface` (keepalived `vmac_xmit_base`). Sets arp_ignore=1 on both interfaces so
   * only the VMAC interface answers ARP for the VIP, and arp_announce=2 so this node's own ARP requests carry
   * the interface address, not the VIP (which would re-point neighbours at the parent's MAC). IPv4 only.
   */
  vmac?: boolean | { name?: string };
  clock?: Clock;
}

export interface TransitionInfo {
  name: string;
  state: VrrpState;
  from: VrrpState;
  reason: TransitionReason;
  priority: number;
  /** the master's address as far as this node knows (itself when master) */
  master: string | undefined;
  at: number;
}

export interface VrrpEvents {
  master: (info: TransitionInfo) => void;
  backup: (info: TransitionInfo) => void;
  fault: (info: TransitionInfo) => void;
  stop: (info: TransitionInfo) => void;
  priority: (change: { name: string; from: number; to: number }) => void;
  /** sync group member: the Master_Down_Timer fired while held; it waits for its group (see createSyncGroup) */
  ready: (name: string) => void;
  /** a packet for this router failed validation (other VRIDs are ignored silently) */
  discard: (why: { reason: DiscardReason; detail: string; src: string }) => void;
  /** a failed send, VIP change or announcement; the instance keeps running */
  error: (error: Error) => void;
}

export interface VrrpStats {
  advertsSent: number;
  advertsReceived: number;
  discarded: Partial<Record<DiscardReason, number>>;
  becameMaster: number;
}

export interface HandoverOptions {
  /** the priority to drop to (default 1) */
  priority?: number;
  /** give up after this many ms (default 2 × Master_Down_Interval + 1 s) */
  timeout?: number;
}

const performanceClock: Clock = { now: () => performance.now() };
/** a cell nobody notifies: Atomics.wait on it is a sub-millisecond sleep (see the setTimer action) */
const napCell = new Int32Array(new SharedArrayBuffer(4));
const NAP_MS = 0.25;
const NAP_GUARD_MS = 0.15;

export class VrrpInstance extends EventEmitter<VrrpEvents> {
  readonly config: VrrpConfig;
  readonly name: string;
  readonly stats: VrrpStats = { advertsSent: 0, advertsReceived: 0, discarded: {}, becameMaster: 0 };
  private readonly opts: VrrpInstanceOptions;
  private vmac: { name: string; mac: string; remove(): Promise<void> } | undefined;
  /** the VIPs this instance adds and removes (all, except an address owner's own addresses) */
  private managed: VirtualAddress[];
  private readonly clock: Clock;
  private transport: Transport | undefined;
  private mover: VipMover;
  private announcer: Announcer;
  private machineConfig: MachineConfig | undefined;
  private s: MachineState;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private garpTimers: NodeJS.Timeout[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private witnessTimer: NodeJS.Timeout | undefined;
  private witnessFailed = false;
  private externalFaults = new Set<string>();
  private handoverPriority: number | undefined;
  private syncHold = false;
  private work: Promise<void> = Promise.resolve();
  private sends: Promise<void> = Promise.resolve();
  /** adverts queued or being sent */
  private sending = 0;
  /** encoded adverts by "priority dst" (see buildAdvert) */
  private readonly adverts = new Map<string, Uint8Array>();
  private garps: Promise<void> = Promise.resolve();
  private readonly onTrackChange = () => this.reevaluate();
  private started = false;
  private advertWaiters: ((src: string, a: Advert) => void)[] = [];
  private readonly virtualAddressList: string[];
  private lowerPrioGarpTimer: NodeJS.Timeout | undefined;
  private configErrorAt: number | undefined;

  constructor(options: VrrpInstanceOptions) {
    super();
    this.config = validateConfig(options);
    this.opts = options;
    this.name = options.name ?? `VI_${this.config.vrid}`;
    if (!options.interface && (!options.transport || !options.vipMover))
      throw new VrrpConfigError(
        "vrrp: interface is required unless both transport and vipMover are given (e.g. the UDP loopback transport and createMemoryVipMover())",
        "interface",
      );
    if (options.vmac && (!options.interface || this.config.family !== 4))
      throw new VrrpConfigError(
        "vrrp: vmac needs `interface` and IPv4 virtual addresses (IPv6 VMAC is not supported)",
        "vmac",
      );
    this.clock = options.clock ?? performanceClock;
    this.managed = this.config.virtualAddresses;
    this.virtualAddressList = this.config.virtualAddresses.map((v) => v.address);
    this.transport = options.transport;
    this.mover = options.vipMover ?? createNetlinkVipMover();
    this.announcer = options.announcer ?? createArpAnnouncer();
    this.s = initialState(this.placeholderMachineConfig(), this.config.priority);
  }

  private placeholderMachineConfig(): MachineConfig {
    return {
      version: this.config.version,
      vrid: this.config.vrid,
      advertInterval: this.config.advertInterval,
      primaryAddress: "0.0.0.0",
    };
  }

  get state(): VrrpState {
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
  /** this node's primary address (the advert source) once started */
  get address(): string | undefined {
    return this.transport?.sourceAddress;
  }
  /** the Master_Down_Interval in force, ms */
  get masterDownInterval(): number {
    return masterDownInterval(this.config.version, this.s.priority, this.s.masterAdverInterval);
  }
  /** the VIPs as "address/prefix" */
  get virtualAddresses(): string[] {
    return this.config.virtualAddresses.map((v) => `${v.address}/${v.prefixLength}`);
  }

  private vipContext(): VipContext {
    return { interface: this.vmac?.name ?? this.opts.interface ?? "", vrid: this.config.vrid };
  }

  /** Opens the transport, removes stale VIPs, and starts as backup (or master, for the address owner). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // the address owner (priority 255) owns VIPs that are its interface's own addresses: never add or remove those
    if (this.config.priority === 255 && this.opts.interface) {
      const present = new Set(
        (networkInterfaces()[this.opts.interface] ?? []).map((a) => canonicalAddress(a.address)),
      );
      this.managed = this.config.virtualAddresses.filter((v) => !present.has(v.address));
    }
    if (!this.transport)
      this.transport = await createRawTransport({
        interface: this.opts.interface!,
        family: this.config.family,
        unicastPeers: this.config.unicastPeers,
        exclude: this.managed.map((v) => v.address),
      });
    const t = this.transport;
    if (t.family !== this.config.family)
      throw new VrrpConfigError(
        `vrrp: transport is IPv${t.family} but the virtual addresses are IPv${this.config.family}`,
        "transport",
      );
    this.machineConfig = {
      version: this.config.version,
      vrid: this.config.vrid,
      advertInterval: this.config.advertInterval,
      primaryAddress: t.sourceAddress,
      preempt: this.config.preempt,
      preemptDelay: this.config.preemptDelay,
      lowerPrioNoAdvert: this.opts.lowerPrioNoAdvert,
      higherPrioSendAdvert: this.opts.higherPrioSendAdvert,
      acceptMode: this.opts.acceptMode,
    };
    if (this.opts.vmac) {
      const name = typeof this.opts.vmac === "object" ? this.opts.vmac.name : undefined;
      const vmac = await createVmac({ parent: this.opts.interface!, vrid: this.config.vrid, name });
      this.vmac = vmac;
      for (const ifname of [this.opts.interface!, vmac.name]) {
        writeFileSync(`/proc/sys/net/ipv4/conf/${ifname}/arp_ignore`, "1");
        writeFileSync(`/proc/sys/net/ipv4/conf/${ifname}/arp_announce`, "2");
      }
    }
    // resolve the interface and open sockets now, so the first takeover does not wait for them
    await this.mover.prepare?.(this.vipContext()).catch((e: unknown) => this.fail(e));
    await this.announcer.prepare?.(this.vipContext()).catch((e: unknown) => this.fail(e));
    // a crashed earlier run may have left the VIPs behind: a backup must not hold them
    await this.mover.remove(this.managed, this.vipContext()).catch((e: unknown) => this.fail(e));
    t.onMessage((p) => {
      // the Master_Down_Timer runs from the advert's arrival, not from the end of decoding and validation; a
      // transport's stamp is performance.now(), so it is used only with the default clock (never later than now)
      const now = this.clock.now();
      const at =
        this.clock === performanceClock && p.receivedAt !== undefined && p.receivedAt <= now
          ? p.receivedAt
          : now;
      const r = validateAdvert(p, {
        version: this.config.version,
        vrid: this.config.vrid,
        advertInterval: this.config.version === 2 ? this.config.advertInterval : undefined,
        authPassword: this.config.authPassword,
        ignoreTtl: !t.checksTtl,
      });
      if (!r.ok) {
        if (r.reason === "vrid") return;
        this.stats.discarded[r.reason] = (this.stats.discarded[r.reason] ?? 0) + 1;
        this.emit("discard", { reason: r.reason, detail: r.detail, src: p.src });
        return;
      }
      const d = screenAdvert({ vips: this.virtualAddressList, priority: this.s.priority }, p.src, r.advert);
      if (d) {
        this.stats.discarded[d.reason] = (this.stats.discarded[d.reason] ?? 0) + 1;
        this.emit("discard", { reason: d.reason, detail: d.detail, src: p.src });
        // a configuration error is reported as an error too, at most once a minute (every advert is a discard)
        if (d.configError && !(this.configErrorAt !== undefined && now - this.configErrorAt < 60_000)) {
          this.configErrorAt = now;
          this.fail(new VrrpError(d.detail));
        }
        return;
      }
      this.stats.advertsReceived++;
      for (const w of this.advertWaiters.slice()) w(p.src, r.advert);
      this.apply({ type: "advert", src: p.src, advert: r.advert }, at);
    });
    for (const tr of this.opts.tracks ?? []) tr.on("change", this.onTrackChange);
    this.s = {
      ...initialState(this.machineConfig, this.computePriority()),
      fault: this.computeFault(),
      hold: this.syncHold,
    };
    // a backup's takeover must not run cold code (first calls cost 50–100 µs each here): encode its adverts now
    // and warm (JIT) the machine's step into master (pure; the result is dropped)
    this.adverts.clear();
    for (const dst of t.destinations) this.buildAdvert(this.s.priority, dst);
    const warm: MachineState = { ...this.s, state: "backup", timerAt: 0, hold: false };
    for (let i = 0; i < 50; i++) step(this.machineConfig, warm, { type: "timer" }, 1);
    // and the advert queue, into a sink in place of the transport (nothing is sent)
    const sink: Transport = {
      family: t.family,
      sourceAddress: t.sourceAddress,
      destinations: t.destinations,
      checksTtl: t.checksTtl,
      send: () => Promise.resolve(),
      onMessage: () => {},
      close: () => Promise.resolve(),
    };
    for (let i = 0; i < 20; i++) this.queueAdvert(this.s.priority, sink);
    await this.sends;
    this.startWitness();
    this.apply({ type: "startup" });
    await this.work;
  }

  /** Leaves cleanly: a priority-0 advert if master, every VIP removed, transport closed. Emits `stop`. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const tr of this.opts.tracks ?? []) tr.off?.("change", this.onTrackChange);
    if (this.witnessTimer) clearInterval(this.witnessTimer);
    this.apply({ type: "shutdown" });
    this.clearTimers();
    await this.sends;
    await this.work;
    await this.garps;
    await this.mover.remove(this.managed, this.vipContext()).catch((e: unknown) => this.fail(e));
    await this.mover.close?.();
    this.announcer.close?.();
    await this.vmac?.remove();
    this.vmac = undefined;
    await this.transport?.close();
    if (!this.opts.transport) this.transport = undefined;
  }

  /**
   * Planned handover: drop to a low priority and resign (a priority-0 advert, VIPs removed), then resolve once
   * another router advertises as master, so the caller can drain. Stays at the low priority until `resume()`.
   * Rejects (and resumes) when no peer takes over within the timeout.
   */
  async handover(o: HandoverOptions = {}): Promise<{ master: string }> {
    if (!this.started) throw new VrrpError(`vrrp: ${this.name} is not running`);
    const priority = o.priority ?? 1;
    if (!Number.isInteger(priority) || priority < 1 || priority > 254)
      throw new VrrpConfigError(`vrrp: handover priority ${priority} out of range 1..254`, "priority");
    const timeout = o.timeout ?? 2 * this.masterDownInterval + 1000;
    const peer = new Promise<{ master: string }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.advertWaiters = this.advertWaiters.filter((w) => w !== waiter);
        this.resume();
        reject(new VrrpError(`vrrp: handover of ${this.name}: no peer became master within ${timeout} ms`));
      }, timeout);
      const waiter = (src: string, a: Advert) => {
        if (a.priority === 0) return;
        clearTimeout(timer);
        this.advertWaiters = this.advertWaiters.filter((w) => w !== waiter);
        resolve({ master: src });
      };
      this.advertWaiters.push(waiter);
    });
    this.handoverPriority = priority;
    this.apply({ type: "handover", priority });
    await this.work;
    return peer;
  }

  /** Sync groups: a held backup does not take over alone; it emits `ready` and waits for `syncTo("master")`. */
  setSyncHold(hold: boolean): void {
    this.syncHold = hold;
    if (this.started) this.apply({ type: "hold", hold });
  }

  /**
   * Sync groups: follow a member's transition (backup → master, or master → backup) now; `resign` leaves master
   * with a priority-0 advert (following a member's handover).
   */
  syncTo(state: "master" | "backup", o: { resign?: boolean } = {}): void {
    if (this.started) this.apply({ type: "sync", to: state, resign: o.resign });
  }

  /** held by a sync group with its Master_Down_Timer expired */
  get ready(): boolean {
    return this.s.ready;
  }

  /** Ends a handover: back to the tracked priority (a better priority preempts again). */
  resume(): void {
    if (this.handoverPriority === undefined) return;
    this.handoverPriority = undefined;
    this.reevaluate();
  }

  /** Puts the instance in (or out of) fault for `source` (sync groups and shells use this). */
  setFault(source: string, fault: boolean): void {
    if (fault) this.externalFaults.add(source);
    else this.externalFaults.delete(source);
    this.reevaluate();
  }

  /** what holds this instance in fault: "witness", "track", or `setFault` sources */
  faultSources(): string[] {
    const out = [...this.externalFaults];
    if (this.witnessFailed) out.push("witness");
    if ((this.opts.tracks ?? []).some((t) => t.fault)) out.push("track");
    return out;
  }

  private computePriority(): number {
    if (this.handoverPriority !== undefined) return this.handoverPriority;
    return effectivePriority(
      this.config.priority,
      (this.opts.tracks ?? []).map((t) => t.delta),
    );
  }

  private computeFault(): boolean {
    return (
      this.witnessFailed || this.externalFaults.size > 0 || (this.opts.tracks ?? []).some((t) => t.fault)
    );
  }

  private reevaluate(): void {
    if (!this.started) return;
    const fault = this.computeFault();
    if (fault !== this.s.fault) this.apply({ type: "fault", fault });
    const p = this.computePriority();
    if (p !== this.s.priority) this.apply({ type: "priority", priority: p });
  }

  private startWitness(): void {
    const w = this.opts.witness;
    if (!w) return;
    let running = false;
    const run = async () => {
      if (running) return;
      running = true;
      const ok = await w.check().catch(() => false);
      running = false;
      if (ok === !this.witnessFailed) return;
      this.witnessFailed = !ok;
      this.reevaluate();
    };
    this.witnessTimer = setInterval(run, w.interval ?? 1000);
    this.witnessTimer.unref?.();
    void run();
  }

  private apply(e: MachineEvent, now = this.clock.now()): void {
    if (!this.machineConfig) return;
    const r = step(this.machineConfig, this.s, e, now);
    this.s = r.state;
    for (const a of r.actions) this.perform(a);
  }

  private fail(e: unknown): void {
    const err = e instanceof Error ? e : new VrrpError(String(e));
    if (this.listenerCount("error") > 0) this.emit("error", err);
  }

  private info(state: VrrpState, from: VrrpState, reason: TransitionReason): TransitionInfo {
    return {
      name: this.name,
      state,
      from,
      reason,
      priority: this.s.priority,
      master: this.s.masterAddress,
      at: Date.now(),
    };
  }

  private perform(a: MachineAction): void {
    switch (a.type) {
      case "setTimer": {
        this.cancelTimer();
        if (a.at === undefined) return;
        const at = a.at;
        const fire = () => {
          this.timer = undefined;
          this.immediate = undefined;
          this.apply({ type: "timer" });
        };
        // Node timers have 1 ms granularity and fire up to ~1 ms late: wake up early, then the machine re-arms
        // for the same deadline and the last stretch runs on setImmediate (yielding to I/O each turn). The
        // backup's Master_Down_Timer (the takeover) gets 2 ms of margin, the master's advert timer 1 ms.
        const margin = this.s.state === "backup" ? 2 : 1;
        const delay = at - this.clock.now();
        if (delay > margin) this.timer = setTimeout(fire, delay - margin);
        else
          this.immediate = setImmediate(() => {
            // A busy last stretch runs for a whole scheduler slice, and on a loaded host the kernel preempts it
            // right before the deadline (0.3–1.3 ms late, measured): sleep most of each turn instead, in slices
            // of at most NAP_MS so I/O (a late advert) is still handled, and spin only the last NAP_GUARD_MS.
            if (this.clock === performanceClock) {
              const left = at - performance.now() - NAP_GUARD_MS;
              if (left > 0) Atomics.wait(napCell, 0, 0, Math.min(left, NAP_MS));
            }
            fire();
          });
        return;
      }
      case "sendAdvert": {
        // adverts go out now, not behind a slow VIP change: with no send in flight, synchronously (before the
        // VIP, GARP and event work of the same step); otherwise behind the earlier ones (their own queue)
        this.queueAdvert(a.priority);
        return;
      }
      case "addVips":
        this.enqueue(() => this.mover.add(this.managed, { ...this.vipContext(), acceptMode: a.acceptMode }));
        return;
      case "removeVips":
        this.stopGarps();
        this.enqueue(() => this.mover.remove(this.managed, this.vipContext()));
        return;
      case "announce":
        if (a.cause === "lower-priority") this.answerGarps();
        else this.scheduleGarps();
        return;
      case "ready":
        this.emit("ready", this.name);
        return;
      case "emit": {
        if (a.event === "priority") {
          this.emit("priority", { name: this.name, from: a.from, to: a.to });
          return;
        }
        if (a.event === "master") this.stats.becameMaster++;
        const info = this.info(a.event === "stop" ? "initialize" : a.event, a.from, a.reason);
        // state events fire once the VIP work queued before them is done (notify after the IPs are up)
        this.enqueue(async () => {
          this.emit(a.event as "master", info);
        });
        return;
      }
    }
  }

  /** VIP work runs after the adverts already queued have left (keepalived's order: advert, VIPs, GARP). */
  private enqueue(fn: () => Promise<void>): void {
    const sent = this.sends;
    this.work = this.work
      .then(() => sent)
      .then(fn)
      .catch((e: unknown) => this.fail(e));
  }

  /** The encoded advert for `priority` to `dst`, built once (the fields other than the priority never change). */
  private buildAdvert(priority: number, dst: string): Uint8Array {
    const key = `${priority} ${dst}`;
    let bytes = this.adverts.get(key);
    if (!bytes) {
      bytes = encodeAdvert(this.advertFields(priority), { src: this.transport!.sourceAddress, dst });
      this.adverts.set(key, bytes);
    }
    return bytes;
  }

  private advertFields(priority: number): Advert {
    return {
      version: this.config.version,
      vrid: this.config.vrid,
      priority,
      advertInterval: this.config.advertInterval,
      addresses: this.config.virtualAddresses.map((v) => v.address),
      ...(this.config.version === 2
        ? this.config.authPassword === undefined
          ? { authType: AuthType.none }
          : { authType: AuthType.simple, authData: passwordAuthData(this.config.authPassword) }
        : {}),
    };
  }

  /** Sends at once when no advert is queued or in flight, otherwise behind the earlier ones. */
  private queueAdvert(priority: number, t = this.transport): void {
    const send = () => this.sendAdvert(priority, t).finally(() => this.sending--);
    this.sends = this.sending++ === 0 ? send() : this.sends.then(send);
  }

  private async sendAdvert(priority: number, t = this.transport): Promise<void> {
    if (!t) return;
    for (const dst of t.destinations) {
      try {
        await t.send(dst, this.buildAdvert(priority, dst));
        if (t === this.transport) this.stats.advertsSent++;
      } catch (e) {
        this.fail(e);
      }
    }
  }

  private announceBurst(repeat: number): void {
    const vips = this.config.virtualAddresses;
    // keepalived's order: the advert, then the VIPs, then the announcements (a neighbour that learns the VIP's
    // new MAC must find the address there); announcements queue apart from later VIP work
    const ready = this.work;
    this.garps = this.garps
      .then(() => ready)
      .then(() => this.announcer.announce(vips, this.vipContext(), repeat))
      .catch((e: unknown) => this.fail(e));
  }

  private scheduleGarps(): void {
    const g = this.opts.garp ?? {};
    const repeat = g.repeat ?? 5;
    this.announceBurst(repeat);
    if (this.s.state !== "master") return;
    const delay = g.delay ?? 5000;
    if (delay > 0 && this.garpTimers.length === 0) {
      const t = setTimeout(() => {
        this.garpTimers = this.garpTimers.filter((x) => x !== t);
        if (this.s.state === "master") this.announceBurst(repeat);
      }, delay);
      t.unref?.();
      this.garpTimers.push(t);
    }
    if ((g.refresh ?? 0) > 0 && !this.refreshTimer) {
      this.refreshTimer = setInterval(() => {
        if (this.s.state === "master") this.announceBurst(g.refreshRepeat ?? 1);
      }, g.refresh);
      this.refreshTimer.unref?.();
    }
  }

  /** keepalived's answer to a lower-priority advert: garp_lower_prio_repeat now, again after garp_lower_prio_delay */
  private answerGarps(): void {
    const g = this.opts.garp ?? {};
    const repeat = g.lowerPrioRepeat ?? g.repeat ?? 5;
    this.announceBurst(repeat);
    const delay = g.lowerPrioDelay ?? g.delay ?? 5000;
    if (delay <= 0 || this.lowerPrioGarpTimer) return;
    this.lowerPrioGarpTimer = setTimeout(() => {
      this.lowerPrioGarpTimer = undefined;
      if (this.s.state === "master") this.announceBurst(repeat);
    }, delay);
    this.lowerPrioGarpTimer.unref?.();
  }

  private stopGarps(): void {
    if (this.lowerPrioGarpTimer) clearTimeout(this.lowerPrioGarpTimer);
    this.lowerPrioGarpTimer = undefined;
    for (const t of this.garpTimers) clearTimeout(t);
    this.garpTimers = [];
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private clearTimers(): void {
    this.cancelTimer();
    this.stopGarps();
  }
}

/** Builds and validates an instance (throws `VrrpConfigError` on bad config); call `start()` to run it. */
export function createInstance(options: VrrpInstanceOptions): VrrpInstance {
  return new VrrpInstance(options);
}
