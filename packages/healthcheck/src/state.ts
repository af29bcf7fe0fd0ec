/**
 * Pure rise/fall logic, HAProxy's health counter: `health` runs 0..rise+fall-1. A server is UP while
 * health >= rise. From fully up, `fall` consecutive failures take it down; from fully down, `rise`
 * consecutive successes bring it up. A success while going down (or a failure while going up) moves the
 * counter back one step, exactly as HAProxy does, so a flapping server does not bounce.
 */

export interface RiseFall {
  rise: number;
  fall: number;
}

export interface Intervals {
  /** Interval while fully up. */
  inter: number;
  /** Interval while transitioning (going down or going up). */
  fastinter: number;
  /** Interval while fully down. */
  downinter: number;
}

/** HAProxy `init-state`: where a new server starts. */
export type InitState = "fully-up" | "up" | "down" | "fully-down";

export interface HealthState {
  readonly up: boolean;
  /** 0..rise+fall-1 */
  readonly health: number;
}

export type Phase = "up" | "going-down" | "down" | "going-up";

export interface Step {
  state: HealthState;
  /** Set when this step changed the up/down verdict. */
  transition?: "up" | "down";
}

const max = (rf: RiseFall) => rf.rise + rf.fall - 1;

/**
 * `fully-up`: needs `fall` failures to go down. `up` (HAProxy's default): up, but the first failure takes it
 * down. `down`: down, the first success brings it up. `fully-down`: needs `rise` successes.
 */
export function initialState(rf: RiseFall, init: InitState): HealthState {
  switch (init) {
    case "fully-up":
      return { up: true, health: max(rf) };
    case "up":
      return { up: true, health: rf.rise };
    case "down":
      return { up: false, health: rf.rise - 1 };
    case "fully-down":
      return { up: false, health: 0 };
  }
}

export function phase(rf: RiseFall, s: HealthState): Phase {
  if (s.up) return s.health >= max(rf) ? "up" : "going-down";
  return s.health <= 0 ? "down" : "going-up";
}

/** The interval until the next check in this state (HAProxy `srv_getinter`). */
export function interval(rf: RiseFall, iv: Intervals, s: HealthState): number {
  const p = phase(rf, s);
  if (p === "up") return iv.inter;
  if (p === "down") return iv.downinter;
  return iv.fastinter;
}

/** Apply one check result. */
export function record(rf: RiseFall, s: HealthState, ok: boolean): Step {
  if (ok) {
    const health = Math.min(s.health + 1, max(rf));
    if (!s.up && health >= rf.rise) return { state: { up: true, health: max(rf) }, transition: "up" };
    return { state: { up: s.up, health } };
  }
  const health = Math.max(s.health - 1, 0);
  if (s.up && health < rf.rise) return { state: { up: false, health: 0 }, transition: "down" };
  return { state: { up: s.up, health } };
}

/** HAProxy `on-error sudden-death`: a pre-fatal failure; the next failed check takes the server down. */
export function suddenDeath(rf: RiseFall, s: HealthState): Step {
  if (!s.up) return { state: { up: false, health: 0 } };
  if (rf.fall <= 1) return record(rf, s, false);
  return { state: { up: true, health: Math.min(s.health, rf.rise) } };
}

/** HAProxy `on-error mark-down`: down now, rise successes needed to come back. */
export function markDown(_rf: RiseFall, s: HealthState): Step {
  if (!s.up) return { state: { up: false, health: 0 } };
  return { state: { up: false, health: 0 }, transition: "down" };
}
