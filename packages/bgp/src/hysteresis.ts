/**
 * Route hysteresis, pure: health flips in, "announce"/"withdraw" decisions out, on injected time. Routes go out
 * only after health held for `rise` ms and are withdrawn only after ill-health held for `fall` ms, so a flapping
 * check does not flap routes (each flap of a BGP route is an UPDATE to every router, and ECMP rehashes flows).
 */

export type RouteState = "withdrawn" | "announced";

export class Hysteresis {
  state: RouteState = "withdrawn";
  private healthy = false;
  /** when the current health value started */
  private since: number;

  constructor(
    readonly rise: number,
    readonly fall: number,
    now: number,
  ) {
    this.since = now;
  }

  /** The health right now (call on every change; repeats are harmless). */
  set(healthy: boolean, now: number): void {
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    this.since = now;
  }

  /** When `step` can next change the state, or undefined when no change is pending. */
  get deadline(): number | undefined {
    if (this.healthy === (this.state === "announced")) return undefined;
    return this.since + (this.healthy ? this.rise : this.fall);
  }

  /** The state change due at `now`, if any (and applies it). */
  step(now: number): RouteState | undefined {
    const at = this.deadline;
    if (at === undefined || now < at) return undefined;
    this.state = this.healthy ? "announced" : "withdrawn";
    return this.state;
  }
}
