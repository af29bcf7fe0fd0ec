// A long-lived announcement sender on one interface, for callers that announce again and again (a VRRP master
// answering split brains, refreshing, taking over): the interface is resolved and the AF_PACKET socket opened
// once, and a burst costs only its sendto calls. Closing a packet socket costs 5–23 ms of kernel time on the
// calling (JS) thread, which announce()'s open-send-close paid for every burst.
import {
  type AnnounceDeps,
  type AnnounceForm,
  normalizeAnnounceOptions,
  planBurst,
  type SentFrame,
} from "./announce.js";
import { systemClock } from "./clock.js";
import { ArpError } from "./errors.js";
import { getInterface, type InterfaceInfo } from "./interfaces.js";
import { type MacLike, parseMac } from "./mac.js";
import { type FrameSender, PacketSocket } from "./socket.js";

export interface LinkAnnounceOptions {
  /** Frames per address in this burst. Default 5. */
  count?: number;
  /** Gratuitous ARP form for IPv4. Default "request". */
  form?: AnnounceForm;
  /** The MAC to announce; default the interface's own. */
  mac?: MacLike;
  /** Router flag in NAs. Default false. */
  router?: boolean;
}

/**
 * One interface, one socket, many bursts (unpaced: each burst is sent synchronously). Close it when done.
 *
 *   const link = await LinkAnnouncer.open("eth0");
 *   link.announce(["198.18.0.100"], { count: 5 });
 *   link.close();
 */
export class LinkAnnouncer {
  readonly interfaceInfo: InterfaceInfo;
  #sender: FrameSender | undefined;
  readonly #now: () => number;
  /** the frames of the last burst planned, by its options: a master re-announces the same VIPs */
  #plan: { key: string; frames: ReturnType<typeof planBurst> } | undefined;

  private constructor(info: InterfaceInfo, sender: FrameSender, now: () => number) {
    this.interfaceInfo = info;
    this.#sender = sender;
    this.#now = now;
  }

  /** Resolves the interface and opens its AF_PACKET socket (needs CAP_NET_RAW). */
  static async open(name: string, deps: AnnounceDeps = {}): Promise<LinkAnnouncer> {
    const open =
      deps.open ??
      (async (n: string) => {
        const info = await getInterface(n);
        return { info, sender: PacketSocket.open({ name: n, ifindex: info.ifindex }) };
      });
    const { info, sender } = await open(name);
    const clock = deps.clock ?? systemClock;
    return new LinkAnnouncer(info, sender, () => clock.now());
  }

  get closed(): boolean {
    return this.#sender === undefined;
  }

  /** Sends one burst now: `count` rounds of one frame per address (request and reply for form "both"). */
  announce(addresses: readonly string[], opts: LinkAnnounceOptions = {}): SentFrame[] {
    const sender = this.#sender;
    if (!sender)
      throw new ArpError(
        "ESEND",
        `arp: announcer on interface "${this.interfaceInfo.name}" is closed; open a new one with LinkAnnouncer.open()`,
      );
    const key = JSON.stringify([addresses, opts.count, opts.form, opts.mac?.toString(), opts.router]);
    if (this.#plan?.key !== key) {
      const cfg = normalizeAnnounceOptions({
        interface: this.interfaceInfo.name,
        addresses: [...addresses],
        count: opts.count,
        form: opts.form,
        mac: opts.mac,
        router: opts.router,
      });
      const mac = cfg.mac ?? parseMac(this.interfaceInfo.mac);
      this.#plan = {
        key,
        frames: planBurst(cfg.addresses, { count: cfg.count, form: cfg.form, mac, router: cfg.router }),
      };
    }
    const sent: SentFrame[] = [];
    for (const f of this.#plan.frames) {
      sender.send(f.bytes);
      sent.push({ ...f, at: this.#now() });
    }
    return sent;
  }

  /** Closes the socket (idempotent). */
  close(): void {
    const s = this.#sender;
    this.#sender = undefined;
    s?.close();
  }
}
