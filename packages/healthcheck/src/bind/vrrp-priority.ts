/**
 * Turns health-check results into VRRP priority deltas with keepalived `track_script` weight semantics:
 * weight > 0 is added while the check is up, weight < 0 is subtracted while it is down, and weight 0 puts
 * the instance into FAULT while the check is down. `reverse` (keepalived `weight N reverse`) negates the
 * adjustment: weight 10 reverse subtracts 10 while up, weight -20 reverse adds 20 while down, and weight 0
 * reverse is FAULT while the check is up. Checked against
 * keepalived 2.2 in test/healthcheck-keepalived.test.ts.
 * The tracker is a structural object (`delta`, `fault`, `on("change")`) for @lbkit/vrrp to consume. It follows
 * its source from construction; `stop()` lets go of it (and `start()` follows it again, recomputing).
 */

import type { ServerState } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { HealthCheckConfigError, v } from "../errors.js";
import type { ChangeEvent, TargetStatus } from "../events.js";

export interface TrackScript {
  /** The health-check target id. */
  id: string;
  /** -253..253, as keepalived. */
  weight: number;
  reverse?: boolean;
}

export interface PriorityState {
  /** Sum to add to the configured priority (the VRRP side clamps the result to 1..254). */
  delta: number;
  /** A weight-0 track is down: the instance must go to FAULT. */
  fault: boolean;
}

/** What @lbkit/vrrp consumes. */
export interface PriorityTrackerLike {
  readonly delta: number;
  readonly fault: boolean;
  on(event: "change", fn: (s: PriorityState & { previous: PriorityState }) => void): unknown;
  off(event: "change", fn: (s: PriorityState & { previous: PriorityState }) => void): unknown;
}

/** Where the tracker reads states from (HealthChecker fits). */
export interface StateSource {
  on(event: "change", fn: (e: ChangeEvent) => void): unknown;
  off(event: "change", fn: (e: ChangeEvent) => void): unknown;
  status(id: string): Pick<TargetStatus, "state"> | undefined;
}

/** A check counts as up while its target is up or draining. */
const isUp = (s: ServerState | undefined) => s === "up" || s === "drain";

/** Pure: the priority delta and fault for the given track states. Unknown ids count as down. */
export function priorityDelta(
  tracks: readonly TrackScript[],
  stateOf: (id: string) => ServerState | undefined,
): PriorityState {
  let delta = 0;
  let fault = false;
  for (const t of tracks) {
    const upNow = isUp(stateOf(t.id));
    if (t.weight === 0) {
      if (upNow === (t.reverse ?? false)) fault = true; // reverse: FAULT while the check is up
      continue;
    }
    // keepalived: a positive weight applies while the check is up, a negative one while it is down;
    // `reverse` negates the adjustment (it does not change when it applies)
    const applies = t.weight > 0 ? upNow : !upNow;
    if (applies) delta += t.reverse ? -t.weight : t.weight;
  }
  return { delta, fault };
}

interface Events {
  change: (s: PriorityState & { previous: PriorityState }) => void;
}

/** `new PriorityTracker(checker, [{ id: "chk_nginx", weight: -20 }])` — keepalived `track_script`. */
export class PriorityTracker extends EventEmitter<Events> implements PriorityTrackerLike {
  private current: PriorityState;
  private readonly tracks: readonly TrackScript[];
  private readonly ids: ReadonlySet<string>;
  private following = false;
  private readonly onChange = (e: ChangeEvent) => {
    if (this.ids.has(e.id)) this.refresh();
  };

  constructor(
    private readonly source: StateSource,
    tracks: readonly TrackScript[],
  ) {
    super();
    if (!Array.isArray(tracks) || tracks.length === 0) {
      throw new HealthCheckConfigError("tracks", tracks, "must list at least one { id, weight }");
    }
    for (const [i, t] of tracks.entries()) {
      if (typeof t?.id !== "string" || t.id === "") {
        throw new HealthCheckConfigError(`tracks[${i}].id`, t?.id, "must be a health-check target id");
      }
      v.int(`tracks[${i}].weight`, t.weight, -253, 253, "keepalived track_script weight");
    }
    this.tracks = tracks.map((t) => ({ ...t }));
    this.ids = new Set(this.tracks.map((t) => t.id));
    this.current = this.compute();
    this.follow();
  }

  get delta(): number {
    return this.current.delta;
  }

  get fault(): boolean {
    return this.current.fault;
  }

  /** Recompute (also done on every tracked change); emits `change` when delta or fault moved. */
  refresh(): void {
    const next = this.compute();
    if (next.delta === this.current.delta && next.fault === this.current.fault) return;
    const previous = this.current;
    this.current = next;
    this.emit("change", { ...next, previous });
  }

  /** Follow the source again after `stop()` (a no-op while following), recomputing at once. */
  start(): Promise<void> {
    this.follow();
    this.refresh();
    return Promise.resolve();
  }

  /** Stop following the source (idempotent); `delta` and `fault` keep their last values. */
  stop(): Promise<void> {
    if (this.following) this.source.off("change", this.onChange);
    this.following = false;
    return Promise.resolve();
  }

  private follow(): void {
    if (this.following) return;
    this.following = true;
    this.source.on("change", this.onChange);
  }

  private compute(): PriorityState {
    return priorityDelta(this.tracks, (id) => this.source.status(id)?.state);
  }
}
