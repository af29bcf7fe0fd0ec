// Announcing addresses: what keepalived does on becoming MASTER (garp_master_delay, garp_master_repeat,
// garp_master_refresh, garp_master_refresh_repeat, garp_interval / gna_interval), over an injected clock and
// frame sender. planBurst() is pure; announce() and Announcer are the shell.
import { type IpAddress, parseAddress } from "./address.js";
import { type Clock, sleep, systemClock } from "./clock.js";
import { ArpError } from "./errors.js";
import { buildGratuitousArp, buildUnsolicitedNa } from "./frames.js";
import { getInterface, type InterfaceInfo } from "./interfaces.js";
import { formatMac, type MacLike, parseMac } from "./mac.js";
import { type FrameSender, PacketSocket } from "./socket.js";

/** Which gratuitous ARP to send for IPv4 addresses; IPv6 addresses always get an unsolicited NA. */
export type AnnounceForm = "request" | "reply" | "both";

export type FrameKind = "arp-request" | "arp-reply" | "na";

export interface AnnounceOptions {
  /** Interface name, e.g. "eth0". */
  interface: string;
  /** IPv4 and/or IPv6 addresses (VIPs), without prefix length. */
  addresses: string[];
  /** Frames per address (and per form) in one burst — keepalived garp_master_repeat. Default 5. */
  count?: number;
  /** Milliseconds between two frames on the interface — keepalived garp_interval / gna_interval. Default 0. */
  interval?: number;
  /** Gratuitous ARP form for IPv4. Default "request" (what keepalived sends). */
  form?: AnnounceForm;
  /** The MAC to announce; default the interface's own (pass the VRRP virtual MAC when using one). */
  mac?: MacLike;
  /** Router flag in NAs. Default false. */
  router?: boolean;
  /** A second burst this many ms after the first — keepalived garp_master_delay. Default 0 (none) for announce(). */
  delay?: number;
}

export interface PlannedFrame {
  address: string;
  family: 4 | 6;
  kind: FrameKind;
  bytes: Uint8Array;
}

export interface SentFrame extends PlannedFrame {
  /** Clock time when it was handed to the kernel. */
  at: number;
}

export interface AnnounceResult {
  interface: string;
  ifindex: number;
  mac: string;
  frames: SentFrame[];
}

/** How announce()/Announcer reach the wire; injectable for tests. */
export interface AnnounceDeps {
  clock?: Clock;
  /** Resolves the interface and opens a sender on it. Default: netlink lookup + AF_PACKET socket. */
  open?: (name: string) => Promise<{ info: InterfaceInfo; sender: FrameSender }>;
}

export const MAX_COUNT = 1000;
export const MAX_ADDRESSES = 1024;

function checkInt(what: string, value: unknown, min: number, max: number, why = ""): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ArpError("ECONFIG", `arp: ${what} ${String(value)} out of range ${min}..${max}${why}`);
  }
  return value;
}

function checkMs(what: string, value: unknown, max = 86_400_000): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > max) {
    throw new ArpError(
      "ECONFIG",
      `arp: ${what} ${String(value)} must be a number of milliseconds in 0..${max}`,
    );
  }
  return value;
}

export interface NormalizedAnnounce {
  interface: string;
  addresses: IpAddress[];
  count: number;
  interval: number;
  form: AnnounceForm;
  mac?: Uint8Array;
  router: boolean;
  delay: number;
}

/** Validates options up front (bad config fails here, not at the first frame). */
export function normalizeAnnounceOptions(opts: AnnounceOptions): NormalizedAnnounce {
  if (!opts || typeof opts !== "object")
    throw new ArpError("ECONFIG", "arp: announce options must be an object");
  if (typeof opts.interface !== "string" || opts.interface.length === 0) {
    throw new ArpError(
      "ECONFIG",
      `arp: interface ${JSON.stringify(opts.interface)} must be an interface name`,
    );
  }
  if (!Array.isArray(opts.addresses) || opts.addresses.length === 0) {
    throw new ArpError("ECONFIG", "arp: addresses must list at least one IPv4 or IPv6 address");
  }
  checkInt("number of addresses", opts.addresses.length, 1, MAX_ADDRESSES);
  const seen = new Set<string>();
  const addresses: IpAddress[] = [];
  for (const a of opts.addresses) {
    const parsed = parseAddress(a);
    if (parsed.family === 6 && parsed.bytes[0] === 0xff) {
      throw new ArpError(
        "EADDRESS",
        `arp: address ${JSON.stringify(a)} is multicast; only unicast is announced`,
      );
    }
    if (!seen.has(parsed.text)) {
      seen.add(parsed.text);
      addresses.push(parsed);
    }
  }
  const form = opts.form ?? "request";
  if (form !== "request" && form !== "reply" && form !== "both") {
    throw new ArpError("ECONFIG", `arp: form ${JSON.stringify(form)} is not "request", "reply" or "both"`);
  }
  return {
    interface: opts.interface,
    addresses,
    count: checkInt("count", opts.count ?? 5, 1, MAX_COUNT),
    interval: checkMs("interval", opts.interval ?? 0, 60_000),
    form,
    ...(opts.mac !== undefined ? { mac: parseMac(opts.mac) } : {}),
    router: opts.router === true,
    delay: checkMs("delay", opts.delay ?? 0),
  };
}

/**
 * The frames of one burst, in send order: `count` rounds, each announcing every address once (request then
 * reply for form "both"), as keepalived sends one GARP per VIP per round.
 */
export function planBurst(
  addresses: IpAddress[],
  opts: { count: number; form: AnnounceForm; mac: MacLike; router?: boolean },
): PlannedFrame[] {
  const mac = parseMac(opts.mac);
  const once: PlannedFrame[] = [];
  for (const a of addresses) {
    if (a.family === 4) {
      const forms: ("request" | "reply")[] = opts.form === "both" ? ["request", "reply"] : [opts.form];
      for (const form of forms) {
        once.push({
          address: a.text,
          family: 4,
          kind: form === "request" ? "arp-request" : "arp-reply",
          bytes: buildGratuitousArp({ mac, address: a, form }),
        });
      }
    } else {
      once.push({
        address: a.text,
        family: 6,
        kind: "na",
        bytes: buildUnsolicitedNa({ mac, address: a, router: opts.router === true }),
      });
    }
  }
  const out: PlannedFrame[] = [];
  for (let i = 0; i < opts.count; i++) out.push(...once);
  return out;
}

async function defaultOpen(name: string): Promise<{ info: InterfaceInfo; sender: FrameSender }> {
  const info = await getInterface(name);
  return { info, sender: PacketSocket.open({ name, ifindex: info.ifindex }) };
}

async function sendPaced(
  frames: PlannedFrame[],
  sender: FrameSender,
  clock: Clock,
  interval: number,
  out: SentFrame[],
): Promise<void> {
  for (const [i, f] of frames.entries()) {
    if (i > 0 && interval > 0) await sleep(clock, interval);
    sender.send(f.bytes);
    out.push({ ...f, at: clock.now() });
  }
}

/**
 * Sends one burst (and a second one `delay` ms later, when set) of gratuitous ARPs / unsolicited NAs for the
 * addresses on the interface, then closes the socket. Resolves with every frame sent.
 *
 *   await announce({ interface: "eth0", addresses: ["198.18.0.100", "2001:db8::100"], count: 3 });
 */
export async function announce(opts: AnnounceOptions, deps: AnnounceDeps = {}): Promise<AnnounceResult> {
  const cfg = normalizeAnnounceOptions(opts);
  const clock = deps.clock ?? systemClock;
  const { info, sender } = await (deps.open ?? defaultOpen)(cfg.interface);
  const mac = cfg.mac ?? parseMac(info.mac);
  const frames = planBurst(cfg.addresses, { count: cfg.count, form: cfg.form, mac, router: cfg.router });
  const sent: SentFrame[] = [];
  try {
    await sendPaced(frames, sender, clock, cfg.interval, sent);
    if (cfg.delay > 0) {
      await sleep(clock, cfg.delay);
      await sendPaced(frames, sender, clock, cfg.interval, sent);
    }
  } finally {
    sender.close();
  }
  return { interface: cfg.interface, ifindex: info.ifindex, mac: formatMac(mac), frames: sent };
}

export interface AnnouncerOptions extends Omit<AnnounceOptions, "count" | "delay"> {
  /** Frames per address in each of the two bursts after start — keepalived garp_master_repeat. Default 5. */
  repeat?: number;
  /** Delay of the second burst after start, ms — keepalived garp_master_delay. Default 5000; 0 = none. */
  delay?: number;
  /** Refresh period while started, ms — keepalived garp_master_refresh. Default 0 (off). */
  refresh?: number;
  /** Frames per address at each refresh — keepalived garp_master_refresh_repeat. Default 1. */
  refreshRepeat?: number;
  /** Called for every frame handed to the kernel. */
  onSent?: (frame: SentFrame) => void;
  /** Errors after start() resolved (a failing refresh); default: printed with console.error. */
  onError?: (err: unknown) => void;
}

/**
 * keepalived's announcement schedule for a new MASTER: `repeat` frames per address at start(), `repeat` more
 * after `delay`, then `refreshRepeat` every `refresh` ms until stop(). Frames on the interface are spaced by
 * `interval`. One AF_PACKET socket is held from start() to stop().
 */
export class Announcer {
  readonly options: Readonly<{ repeat: number; delay: number; refresh: number; refreshRepeat: number }>;
  readonly #cfg: NormalizedAnnounce;
  readonly #clock: Clock;
  readonly #open: NonNullable<AnnounceDeps["open"]>;
  readonly #onSent: ((f: SentFrame) => void) | undefined;
  readonly #onError: (err: unknown) => void;
  #sender: FrameSender | undefined;
  #info: InterfaceInfo | undefined;
  #mac: Uint8Array | undefined;
  #timers = new Set<unknown>();
  #queue: PlannedFrame[] = [];
  #pumping = false;
  #running = false;
  #generation = 0;
  #sent = 0;

  constructor(opts: AnnouncerOptions, deps: AnnounceDeps = {}) {
    const repeat = checkInt("repeat", opts.repeat ?? 5, 1, MAX_COUNT);
    this.#cfg = normalizeAnnounceOptions({ ...opts, count: repeat, delay: opts.delay ?? 5000 });
    const refresh = checkMs("refresh", opts.refresh ?? 0);
    const refreshRepeat = checkInt("refreshRepeat", opts.refreshRepeat ?? 1, 1, MAX_COUNT);
    if (refresh > 0 && refresh < 100) {
      throw new ArpError("ECONFIG", `arp: refresh ${refresh} ms is below 100 ms; use 0 to turn refresh off`);
    }
    this.options = { repeat: this.#cfg.count, delay: this.#cfg.delay, refresh, refreshRepeat };
    this.#clock = deps.clock ?? systemClock;
    this.#open = deps.open ?? defaultOpen;
    this.#onSent = opts.onSent;
    this.#onError = opts.onError ?? ((err) => console.error(err));
  }

  /** Frames sent so far. */
  get sent(): number {
    return this.#sent;
  }

  get running(): boolean {
    return this.#running;
  }

  /** The interface as resolved at start(). */
  get interfaceInfo(): InterfaceInfo | undefined {
    return this.#info;
  }

  /** Opens the socket and sends the first burst (resolves once it is sent); schedules the rest. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const gen = ++this.#generation;
    let opened: { info: InterfaceInfo; sender: FrameSender };
    try {
      opened = await this.#open(this.#cfg.interface);
    } catch (err) {
      this.#running = false;
      throw err;
    }
    if (gen !== this.#generation) {
      opened.sender.close(); // stopped while opening
      return;
    }
    this.#info = opened.info;
    this.#sender = opened.sender;
    this.#mac = this.#cfg.mac ?? parseMac(opened.info.mac);
    const first = this.#burst(this.#cfg.count);
    if (this.#cfg.delay > 0) this.#after(this.#cfg.delay, () => this.#enqueue(this.#burst(this.#cfg.count)));
    if (this.options.refresh > 0) this.#scheduleRefresh();
    try {
      await this.#enqueue(first);
    } catch (err) {
      this.stop();
      throw err;
    }
  }

  /** Re-announces now (e.g. after a link flap), `repeat` frames per address. */
  announceNow(): Promise<void> {
    if (!this.#running || !this.#sender) {
      return Promise.reject(new ArpError("ECONFIG", "arp: announcer is not started; call start() first"));
    }
    return this.#enqueue(this.#burst(this.#cfg.count));
  }

  /** Cancels pending bursts and refreshes and closes the socket. */
  stop(): void {
    this.#generation++;
    this.#running = false;
    for (const t of this.#timers) this.#clock.clearTimeout(t);
    this.#timers.clear();
    // bursts cut short by stop() settle as done: nothing more will be sent for them
    for (const f of this.#queue as (PlannedFrame & { done?: Settle })[]) f.done?.resolve();
    this.#queue = [];
    this.#pumping = false;
    this.#sender?.close();
    this.#sender = undefined;
  }

  #burst(count: number): PlannedFrame[] {
    return planBurst(this.#cfg.addresses, {
      count,
      form: this.#cfg.form,
      mac: this.#mac!,
      router: this.#cfg.router,
    });
  }

  #after(ms: number, fn: () => Promise<void>): void {
    const t = this.#clock.setTimeout(() => {
      this.#timers.delete(t);
      fn().catch((err) => this.#onError(err));
    }, ms);
    this.#timers.add(t);
  }

  #scheduleRefresh(): void {
    this.#after(this.options.refresh, () => {
      this.#scheduleRefresh();
      return this.#enqueue(this.#burst(this.options.refreshRepeat));
    });
  }

  /** Appends frames to the interface queue; resolves when the last of them has been sent. */
  #enqueue(frames: PlannedFrame[]): Promise<void> {
    const gen = this.#generation;
    return new Promise<void>((resolve, reject) => {
      const last = frames.length - 1;
      frames.forEach((f, i) => {
        this.#queue.push(i === last ? Object.assign({}, f, { done: { resolve, reject } }) : f);
      });
      if (frames.length === 0) resolve();
      if (!this.#pumping) this.#pump(gen);
    });
  }

  #pump(gen: number): void {
    this.#pumping = true;
    while (gen === this.#generation) {
      const next = this.#queue.shift() as (PlannedFrame & { done?: Settle }) | undefined;
      if (!next) break;
      try {
        this.#sender!.send(next.bytes);
      } catch (err) {
        // drop the rest of this burst, report to whoever waits on it
        let f: (PlannedFrame & { done?: Settle }) | undefined = next;
        while (f && !f.done) f = this.#queue.shift() as (PlannedFrame & { done?: Settle }) | undefined;
        f?.done?.reject(err);
        continue;
      }
      const sent: SentFrame = {
        address: next.address,
        family: next.family,
        kind: next.kind,
        bytes: next.bytes,
        at: this.#clock.now(),
      };
      this.#sent++;
      this.#onSent?.(sent);
      next.done?.resolve();
      if (this.#cfg.interval > 0 && this.#queue.length > 0) {
        const t = this.#clock.setTimeout(() => {
          this.#timers.delete(t);
          this.#pump(gen);
        }, this.#cfg.interval);
        this.#timers.add(t);
        return;
      }
    }
    this.#pumping = false;
  }
}

interface Settle {
  resolve: () => void;
  reject: (err: unknown) => void;
}
