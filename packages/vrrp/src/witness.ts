/** The witness as a Tracker: in fault while its check fails, polled on the injected time. */
import { systemTime, type Time } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { check } from "./errors.js";
import type { Tracker, Witness } from "./tracker.js";

export class WitnessTracker extends EventEmitter<{ change: () => void }> implements Tracker {
  readonly delta = 0;
  private failed = false;
  private timer: unknown;
  private running = false;
  private generation = 0;
  private readonly interval: number;

  constructor(
    private readonly witness: Witness,
    private readonly time: Time = systemTime,
  ) {
    super();
    this.interval = check.ms("witness.interval", witness.interval ?? 1000, 10);
  }

  get fault(): boolean {
    return this.failed;
  }

  /** Runs the check now and every `interval` ms. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const gen = ++this.generation;
    const run = async () => {
      const ok = await this.witness.check().catch(() => false);
      if (gen !== this.generation) return;
      if (ok === this.failed) {
        this.failed = !ok;
        this.emit("change");
      }
      this.timer = this.time.setTimeout(run, this.interval);
    };
    void run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    this.time.clearTimeout(this.timer);
    this.failed = false;
  }
}
