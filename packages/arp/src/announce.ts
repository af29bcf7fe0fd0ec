// Announcing addresses: what keepalived does on becoming MASTER (garp_master_delay, garp_master_repeat,
// garp_master_refresh, garp_master_refresh_repeat, garp_interval / gna_interval), over injected time and an
// injected frame sender. Announcer is the shell; announce() is one burst through it; the pure half is burst.ts.
import { emitError, sleep, type Time } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import {
  type AnnounceOptions,
  type AnnounceResult,
  type AnnouncerOptions,
  MAX_COUNT,
  type Normalized,
  normalizeAnnounceOptions,
  type OpenLink,
  type PlannedFrame,
  planBurst,
  type SentFrame,
} from "./burst.js";
import { ArpConfigError, ArpError, check } from "./errors.js";
import { ethernetMac, getInterface, type InterfaceInfo } from "./interfaces.js";
import { formatMac, parseMac } from "./mac.js";
import { type FrameSender, PacketSocket } from "./socket.js";

const MAX_DELAY = 86_400_000;

async function defaultOpen(name: string): Promise<{ info: InterfaceInfo; sender: FrameSender }> {
  const info = await getInterface(name);
  ethernetMac(info);
  return { info, sender: PacketSocket.open({ name, ifindex: info.ifindex }) };
}

/**
 * One burst (and a second one `delay` ms later, when set) of gratuitous ARPs / unsolicited NAs for the addresses
 * on the interface, through a short-lived Announcer. Resolves with every frame sent.
 *
 *   await announce({ interface: "eth0", addresses: ["198.18.0.100", "2001:db8::100"], count: 3 });
 */
export async function announce(opts: AnnounceOptions): Promise<AnnounceResult> {
  const count = check.int("count", opts?.count ?? 5, 1, MAX_COUNT);
  const delay = check.ms("delay", opts?.delay ?? 0, 0, MAX_DELAY);
  const { count: _c, ...rest } = opts;
  const a = new Announcer({ ...rest, repeat: count, delay: 0, refresh: 0 });
  const frames: SentFrame[] = [];
  a.on("frame", (f) => frames.push(f));
  const failed: unknown[] = [];
  a.on("error", (e) => failed.push(e));
  await a.start();
  try {
    if (delay > 0) {
      await sleep(a.time, delay);
      await a.announceNow();
    }
  } finally {
    await a.stop();
  }
  const info = a.interfaceInfo!;
  return { interface: info.name, ifindex: info.ifindex, mac: formatMac(a.mac!), frames };
}

export interface AnnouncerEvents {
  /** a frame handed to the kernel */
  frame: (frame: SentFrame) => void;
  /** a burst after start() resolved failed (a refresh, the delayed burst); the schedule goes on */
  error: (error: ArpError) => void;
}

/**
 * keepalived's announcement schedule for a new MASTER: `repeat` frames per address at start(), `repeat` more
 * after `delay`, then `refreshRepeat` every `refresh` ms until stop(). Frames on the interface are spaced by
 * `interval`. One frame sender (AF_PACKET socket) is held from start() to stop().
 */
export class Announcer extends EventEmitter<AnnouncerEvents> {
  readonly options: Readonly<{ repeat: number; delay: number; refresh: number; refreshRepeat: number }>;
  readonly time: Time;
  readonly #cfg: Normalized;
  readonly #open: OpenLink;
  #sender: FrameSender | undefined;
  #info: InterfaceInfo | undefined;
  #mac: Uint8Array | undefined;
  #timers = new Set<unknown>();
  #queue: QueuedFrame[] = [];
  #pumping = false;
  #starting: Promise<void> | undefined;
  #generation = 0;
  #sent = 0;

  constructor(opts: AnnouncerOptions) {
    super();
    this.#cfg = normalizeAnnounceOptions(opts);
    this.#open = opts.open ?? defaultOpen;
    const refresh = check.ms("refresh", opts.refresh ?? 0, 0, MAX_DELAY);
    if (refresh > 0 && refresh < 100)
      throw new ArpConfigError("refresh", refresh, "must be 0 (off) or at least 100 ms");
    this.options = {
      repeat: check.int("repeat", opts.repeat ?? 5, 1, MAX_COUNT),
      delay: check.ms("delay", opts.delay ?? 5000, 0, MAX_DELAY),
      refresh,
      refreshRepeat: check.int("refreshRepeat", opts.refreshRepeat ?? 1, 1, MAX_COUNT),
    };
    this.time = this.#cfg.time;
  }

  /** Frames sent so far. */
  get sent(): number {
    return this.#sent;
  }

  get running(): boolean {
    return this.#sender !== undefined;
  }

  /** The interface as resolved at start(). */
  get interfaceInfo(): InterfaceInfo | undefined {
    return this.#info;
  }

  /** The MAC announced (resolved at start()). */
  get mac(): Uint8Array | undefined {
    return this.#mac;
  }

  /**
   * Opens the sender and sends the first burst (resolves once it is sent); schedules the rest. A failed start
   * leaves the announcer stopped; start() while starting or running returns the same promise.
   */
  start(): Promise<void> {
    this.#starting ??= this.#start().catch(async (err: unknown) => {
      await this.stop();
      throw err;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const gen = ++this.#generation;
    const opened = await this.#open(this.#cfg.interface);
    if (gen !== this.#generation) {
      opened.sender.close(); // stopped while opening
      return;
    }
    this.#info = opened.info;
    this.#sender = opened.sender;
    this.#mac = this.#cfg.mac ?? parseMac(ethernetMac(opened.info));
    const first = this.#burst(this.options.repeat);
    if (this.options.delay > 0)
      this.#after(this.options.delay, () => this.#enqueue(this.#burst(this.options.repeat)));
    if (this.options.refresh > 0) this.#scheduleRefresh();
    await this.#enqueue(first);
  }

  /** Re-announces now (e.g. after a link flap, or to answer a stale master), `repeat` frames per address. */
  announceNow(repeat = this.options.repeat): Promise<void> {
    if (!this.#sender)
      return Promise.reject(
        new ArpError("ERR_NOT_STARTED", "arp: announcer is not started; call start() first"),
      );
    return this.#enqueue(this.#burst(repeat));
  }

  /** Cancels pending bursts and refreshes and closes the sender. Idempotent; safe while start() runs. */
  async stop(): Promise<void> {
    this.#generation++;
    this.#starting = undefined;
    for (const t of this.#timers) this.time.clearTimeout(t);
    this.#timers.clear();
    // bursts cut short by stop() settle as done: nothing more will be sent for them
    for (const f of this.#queue) f.done?.resolve();
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
    const t = this.time.setTimeout(() => {
      this.#timers.delete(t);
      fn().catch((err: unknown) => emitError(this, asArpError(err)));
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
        this.#queue.push(i === last ? { ...f, done: { resolve, reject } } : f);
      });
      if (frames.length === 0) resolve();
      if (!this.#pumping) this.#pump(gen);
    });
  }

  #pump(gen: number): void {
    this.#pumping = true;
    while (gen === this.#generation) {
      const next = this.#queue.shift();
      if (!next) break;
      try {
        this.#sender!.send(next.bytes);
      } catch (err) {
        // drop the rest of this burst, report to whoever waits on it
        let f: QueuedFrame | undefined = next;
        while (f && !f.done) f = this.#queue.shift();
        f?.done?.reject(err);
        continue;
      }
      const sent: SentFrame = {
        address: next.address,
        family: next.family,
        kind: next.kind,
        bytes: next.bytes,
        at: this.time.now(),
      };
      this.#sent++;
      this.emit("frame", sent);
      next.done?.resolve();
      if (this.#cfg.interval > 0 && this.#queue.length > 0) {
        const t = this.time.setTimeout(() => {
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

function asArpError(err: unknown): ArpError {
  return err instanceof ArpError
    ? err
    : new ArpError("ERR_SEND", `arp: announcement failed: ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
      });
}

interface QueuedFrame extends PlannedFrame {
  done?: { resolve: () => void; reject: (err: unknown) => void };
}
