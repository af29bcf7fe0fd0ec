/** The public shapes of a VRRP instance: its options, its events and their payloads, its stats. */
import type { Time } from "@lbkit/core";
import type { DiscardReason } from "./codec.js";
import type { VrrpConfig, VrrpConfigInput } from "./config.js";
import { check, VrrpConfigError, type VrrpError } from "./errors.js";
import type { VrrpGarpOptions } from "./garp.js";
import type { MachineAction, MachineConfig, MachineState, TransitionReason, VrrpState } from "./machine.js";
import type { Tracker, Witness } from "./tracker.js";
import type { Transport } from "./transports/transport.js";
import type { VipMover } from "./vip.js";

export interface VrrpInstanceOptions extends VrrpConfigInput {
  /** a name for logs and events (keepalived's instance name); default "VI_<vrid>" */
  id?: string;
  /** the interface VRRP runs on; required unless both `transport` and `vipMover` are given */
  interface?: string;
  /** default: raw IP protocol 112 on `interface`, opened at start() and closed at stop(). One passed in is the
   * caller's: pass it started; the instance never stops it. */
  transport?: Transport;
  /** default: netlink address add/remove on `interface` */
  vipMover?: VipMover;
  /** gratuitous ARP / unsolicited NA on becoming master (keepalived's garp_master_*); false: none. Default on
   * with `interface`, off without one. */
  garp?: VrrpGarpOptions | false;
  tracks?: readonly Tracker[];
  witness?: Witness;
  /** keepalived lower_prio_no_advert */
  lowerPrioNoAdvert?: boolean;
  /** keepalived higher_prio_send_advert: one advert of our priority before stepping down to a higher one (default
   * true; false steps down silently, as the RFC) */
  higherPrioSendAdvert?: boolean;
  /** RFC 5798 Accept_Mode. Default true (keepalived without `vrrp_strict`). false: as a non-owner master, the
   * netlink mover drops traffic to the VIPs with an nftables table `lbkit_vrrp_<vrid>` (needs `nft`). */
  acceptMode?: boolean;
  /** keepalived `use_vmac`: the VIPs on a macvlan with the virtual router MAC (see vmac.ts). IPv4 only. */
  vmac?: boolean | { name?: string };
  /** default systemTime; tests pass a FakeTime */
  time?: Time;
}

/** The one state-change event: `{ id, from, to, reason, at }` plus the VRRP fields. */
export interface VrrpChange {
  id: string;
  from: VrrpState;
  to: VrrpState;
  reason: TransitionReason;
  /** Date.now() */
  at: number;
  priority: number;
  /** the master's address as far as this node knows (itself when master) */
  master: string | undefined;
}

export interface VrrpEvents {
  change: (change: VrrpChange) => void;
  priority: (change: { id: string; from: number; to: number }) => void;
  /** sync group member: the Master_Down_Timer fired while held; it waits for its group (see SyncGroup) */
  ready: (member: { id: string }) => void;
  /** a packet for this router failed validation (other VRIDs are ignored silently) */
  discard: (why: { reason: DiscardReason; detail: string; src: string }) => void;
  /** a failed send, VIP change or announcement; the instance keeps running */
  error: (error: VrrpError) => void;
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

/** The instance options beyond the VRRP config, checked at construction; returns the instance's id. */
export function checkInstanceOptions(o: VrrpInstanceOptions, config: VrrpConfig): string {
  if (!o.interface && (!o.transport || !o.vipMover))
    throw new VrrpConfigError(
      "interface",
      o.interface,
      "is required unless both transport and vipMover are given (e.g. a MemoryNetwork transport and a MemoryVipMover)",
    );
  if (o.vmac && (!o.interface || config.family !== 4))
    throw new VrrpConfigError(
      "vmac",
      o.vmac,
      "needs `interface` and IPv4 virtual addresses (IPv6 VMAC is not supported)",
    );
  if (o.garp && !o.interface)
    throw new VrrpConfigError(
      "garp",
      o.garp,
      "needs `interface` (the link the announcements leave on); use garp: false without one",
    );
  return o.id === undefined ? `VI_${config.vrid}` : check.string("id", o.id);
}

/** The machine's view of the configuration, once the advert source is known. */
export function machineConfigOf(
  c: VrrpConfig,
  o: VrrpInstanceOptions,
  primaryAddress: string,
): MachineConfig {
  return {
    version: c.version,
    vrid: c.vrid,
    advertInterval: c.advertInterval,
    primaryAddress,
    preempt: c.preempt,
    preemptDelay: c.preemptDelay,
    lowerPrioNoAdvert: o.lowerPrioNoAdvert,
    higherPrioSendAdvert: o.higherPrioSendAdvert,
    acceptMode: o.acceptMode,
  };
}

/** The `change` payload of a machine's state event. */
export function changeOf(
  id: string,
  a: Extract<MachineAction, { type: "emit"; event: "master" | "backup" | "fault" | "stop" }>,
  s: MachineState,
): VrrpChange {
  return {
    id,
    from: a.from,
    to: a.event === "stop" ? "initialize" : a.event,
    reason: a.reason,
    at: Date.now(),
    priority: s.priority,
    master: s.masterAddress,
  };
}
