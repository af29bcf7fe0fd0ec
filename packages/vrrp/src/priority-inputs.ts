/**
 * What decides an instance's priority and fault: the base priority, the trackers' deltas and faults, the witness,
 * faults set from outside (sync groups), and a planned handover's priority.
 */
import { effectivePriority } from "./machine.js";
import type { Tracker } from "./tracker.js";
import type { WitnessTracker } from "./witness.js";

export class PriorityInputs {
  /** the priority a handover dropped to, until resume() */
  handoverPriority: number | undefined;
  private readonly external = new Set<string>();

  constructor(
    private readonly base: number,
    readonly tracks: readonly Tracker[],
    readonly witness: WitnessTracker | undefined,
  ) {}

  setFault(source: string, fault: boolean): void {
    if (fault) this.external.add(source);
    else this.external.delete(source);
  }

  /** what holds the instance in fault: `setFault` sources, "witness", "track" */
  faultSources(): string[] {
    const out = [...this.external];
    if (this.witness?.fault) out.push("witness");
    if (this.tracks.some((t) => t.fault)) out.push("track");
    return out;
  }

  get fault(): boolean {
    return this.faultSources().length > 0;
  }

  get priority(): number {
    if (this.handoverPriority !== undefined) return this.handoverPriority;
    return effectivePriority(
      this.base,
      this.tracks.map((t) => t.delta),
    );
  }

  /** Calls `fn` on every change of a tracker or the witness; returns the remover. */
  subscribe(fn: () => void): () => void {
    for (const t of this.tracks) t.on("change", fn);
    this.witness?.on("change", fn);
    return () => {
      for (const t of this.tracks) t.off?.("change", fn);
      this.witness?.off("change", fn);
    };
  }
}
