/**
 * Gratuitous ARP / unsolicited NA for an instance's VIPs through @lbkit/arp's `Announcer`, with keepalived's
 * MASTER schedule (garp_master_repeat, garp_master_delay, garp_master_refresh, garp_master_refresh_repeat). The
 * link (an AF_PACKET socket) is opened once at the instance's start and held until its stop: opening and closing
 * one per burst blocks the event loop for milliseconds.
 */
import {
  Announcer,
  ArpConfigError,
  type FrameSender,
  getInterface,
  type InterfaceInfo,
  type OpenLink,
  PacketSocket,
} from "@lbkit/arp";
import type { Time } from "@lbkit/core";
import { asVrrpError, check, VrrpConfigError, type VrrpError } from "./errors.js";

export interface VrrpGarpOptions {
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
  /** keepalived garp_interval / gna_interval: ms between two frames (default 0) */
  interval?: number;
  /** how frames reach the wire (default: @lbkit/arp's AF_PACKET socket on the VIP interface); for tests */
  open?: OpenLink;
}

async function packetLink(
  name: string,
  known?: InterfaceInfo,
): Promise<{ info: InterfaceInfo; sender: FrameSender }> {
  const info = known ?? (await getInterface(name));
  return { info, sender: PacketSocket.open({ name, ifindex: info.ifindex }) };
}

export class VipAnnouncer {
  private link: { info: InterfaceInfo; sender: FrameSender } | undefined;
  private announcer: Announcer | undefined;
  /** bumped on quiet(): an announcement queued before it is dropped */
  private generation = 0;
  /** the delayed second burst of a lower-priority answer */
  private answerTimer: unknown;

  constructor(
    private readonly o: VrrpGarpOptions,
    private readonly addresses: readonly string[],
    private readonly time: Time,
    private readonly onError: (e: VrrpError) => void,
  ) {
    // bad GARP options fail at construction: the schedule is checked now, built for the real interface at start
    const { open: _open, lowerPrioRepeat, lowerPrioDelay, ...schedule } = o;
    if (lowerPrioRepeat !== undefined) check.int("garp.lowerPrioRepeat", lowerPrioRepeat, 1, 1000);
    if (lowerPrioDelay !== undefined) check.ms("garp.lowerPrioDelay", lowerPrioDelay, 0);
    try {
      new Announcer({ ...schedule, interface: "check", addresses: [...addresses], time });
    } catch (e) {
      if (e instanceof ArpConfigError) throw new VrrpConfigError(`garp.${e.option}`, e.value, e.fix);
      throw e;
    }
  }

  /** Opens the link on the VIP interface (`known`: the interface as read at start, saving a lookup). */
  async start(ifname: string, known?: InterfaceInfo): Promise<void> {
    const open = this.o.open ?? (known ? (name: string) => packetLink(name, known) : packetLink);
    const link = await open(ifname).catch((e: unknown) => {
      throw asVrrpError("ERR_ANNOUNCE", `gratuitous ARP on ${ifname}`, e);
    });
    const { open: _open, lowerPrioRepeat: _r, lowerPrioDelay: _d, ...schedule } = this.o;
    try {
      this.announcer = new Announcer({
        ...schedule,
        interface: ifname,
        addresses: [...this.addresses],
        time: this.time,
        // the held link; the announcer's stop() must not close it
        open: async () => ({ info: link.info, sender: { send: (f) => link.sender.send(f), close() {} } }),
      });
    } catch (e) {
      link.sender.close();
      throw e;
    }
    this.announcer.on("error", (e) => this.onError(asVrrpError("ERR_ANNOUNCE", "gratuitous ARP", e)));
    this.link = link;
  }

  /** A ticket for `announce`: announcements asked for before a later `quiet()` are dropped. */
  get ticket(): number {
    return this.generation;
  }

  /** On becoming master: the first burst, then the delayed one and the refreshes; while master: one more burst. */
  async announce(ticket: number): Promise<void> {
    const a = this.announcer;
    if (!a || ticket !== this.generation) return;
    try {
      await (a.running ? a.announceNow() : a.start());
    } catch (e) {
      this.onError(asVrrpError("ERR_ANNOUNCE", "gratuitous ARP", e));
    }
  }

  /**
   * keepalived's answer to a lower-priority advert while master: garp_lower_prio_repeat now and, once pending at
   * most, again garp_lower_prio_delay later (the machine rate-limits how often it answers).
   */
  async answer(ticket: number): Promise<void> {
    const a = this.announcer;
    if (!a || ticket !== this.generation) return;
    const repeat = this.o.lowerPrioRepeat ?? this.o.repeat ?? 5;
    try {
      await (a.running ? a.announceNow(repeat) : a.start());
    } catch (e) {
      this.onError(asVrrpError("ERR_ANNOUNCE", "gratuitous ARP", e));
    }
    const delay = this.o.lowerPrioDelay ?? this.o.delay ?? 5000;
    if (delay <= 0 || this.answerTimer !== undefined) return;
    this.answerTimer = this.time.setTimeout(() => {
      this.answerTimer = undefined;
      if (ticket !== this.generation || !this.announcer?.running) return;
      this.announcer
        .announceNow(repeat)
        .catch((e: unknown) => this.onError(asVrrpError("ERR_ANNOUNCE", "gratuitous ARP", e)));
    }, delay);
  }

  /** On leaving master: pending bursts and refreshes are cancelled (the link stays open). */
  quiet(): void {
    if (this.answerTimer !== undefined) this.time.clearTimeout(this.answerTimer);
    this.answerTimer = undefined;
    this.generation++;
    void this.announcer?.stop();
  }

  async stop(): Promise<void> {
    this.quiet();
    this.announcer = undefined;
    this.link?.sender.close();
    this.link = undefined;
  }
}
