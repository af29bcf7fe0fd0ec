/**
 * keepalived `track_interface`: a tracker that is in fault while an interface is down (not up, or no carrier),
 * or that lowers the priority by `weight` while it is down (keepalived `weight` on a tracked interface).
 * Polls the link with @lbkit/arp's `getInterface` on the injected time.
 */
import { getInterface } from "@lbkit/arp";
import { systemTime, type Time } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { asVrrpError, check } from "./errors.js";
import type { Tracker } from "./tracker.js";

export interface InterfaceTrackerOptions {
  /** the interface to watch, e.g. "eth1" */
  interface: string;
  /** keepalived `weight`: with a weight, a down interface lowers the priority by it instead of causing FAULT */
  weight?: number;
  /** poll period, ms (default 200) */
  interval?: number;
  time?: Time;
}

export interface InterfaceChange {
  id: string;
  from: "up" | "down";
  to: "up" | "down";
  reason: "link";
  at: number;
}

export class InterfaceTracker
  extends EventEmitter<{ change: (c: InterfaceChange) => void }>
  implements Tracker
{
  readonly id: string;
  private readonly weight: number | undefined;
  private readonly interval: number;
  private readonly time: Time;
  private isUp = true;
  private timer: unknown;
  private generation = 0;
  private starting: Promise<void> | undefined;

  constructor(o: InterfaceTrackerOptions) {
    super();
    this.id = check.string("interface", o.interface, "an interface name such as eth1");
    this.weight = o.weight === undefined ? undefined : check.int("weight", o.weight, -254, 254);
    this.interval = check.ms("interval", o.interval ?? 200, 10);
    this.time = o.time ?? systemTime;
  }

  get up(): boolean {
    return this.isUp;
  }
  get delta(): number {
    return this.weight !== undefined && !this.isUp ? -Math.abs(this.weight) : 0;
  }
  get fault(): boolean {
    return this.weight === undefined && !this.isUp;
  }

  /** Reads the link once (rejects when the interface does not exist), then polls it. */
  start(): Promise<void> {
    this.starting ??= this.read().then(
      (up) => {
        this.isUp = up;
        const gen = ++this.generation;
        this.schedule(gen);
      },
      (e: unknown) => {
        this.starting = undefined;
        throw asVrrpError("ERR_INTERFACE", `tracked interface ${this.id}`, e);
      },
    );
    return this.starting;
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    this.starting = undefined;
    this.generation++;
    this.time.clearTimeout(this.timer);
  }

  private async read(): Promise<boolean> {
    return (await getInterface(this.id)).running;
  }

  private schedule(gen: number): void {
    this.timer = this.time.setTimeout(async () => {
      const now = await this.read().catch(() => false);
      if (gen !== this.generation) return;
      if (now !== this.isUp) {
        const from = this.isUp ? "up" : "down";
        this.isUp = now;
        this.emit("change", { id: this.id, from, to: now ? "up" : "down", reason: "link", at: Date.now() });
      }
      this.schedule(gen);
    }, this.interval);
  }
}
