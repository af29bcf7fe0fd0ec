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
import { asVrrpError, VrrpConfigError, type VrrpError } from "./errors.js";

export interface VrrpGarpOptions {
  /** keepalived garp_master_repeat: announcements per VIP in each burst (default 5) */
  repeat?: number;
  /** keepalived garp_master_delay: a second burst this long after becoming master, ms (default 5000; 0 = none) */
  delay?: number;
  /** keepalived garp_master_refresh: a periodic burst while master, ms (default 0 = off) */
  refresh?: number;
  /** keepalived garp_master_refresh_repeat (default 1) */
  refreshRepeat?: number;
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

  constructor(
    private readonly o: VrrpGarpOptions,
    private readonly addresses: readonly string[],
    private readonly time: Time,
    private readonly onError: (e: VrrpError) => void,
  ) {
    // bad GARP options fail at construction: the schedule is checked now, built for the real interface at start
    const { open: _open, ...schedule } = o;
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
    const { open: _open, ...schedule } = this.o;
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

  /** On leaving master: pending bursts and refreshes are cancelled (the link stays open). */
  quiet(): void {
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
