/**
 * Pure rise/fall logic, HAProxy's health counter (checked against HAProxy 2.6 in
 * test/healthcheck-haproxy.test.ts): `health` runs 0..rise+fall-1 and the server is UP while health >= rise.
 * While up, a success restores the counter to the top and a failure steps it down; the failure taken at
 * `rise` marks the server down and empties the counter. While down, a failure empties the counter and a
 * success steps it up; reaching `rise` marks the server up and fills the counter. So from fully up it takes
 * `fall` consecutive failures to go down, and from fully down `rise` consecutive successes to come up.
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

export type HealthPhase = "up" | "going-down" | "down" | "going-up";

export interface HealthStep {
  state: HealthState;
  /** Set when this step changed the up/down verdict. */
  transition?: "up" | "down";
}

const max = (rf: RiseFall) => rf.rise + rf.fall - 1;

/**
 * `fully-up`: needs `fall` failures to go down. `up` (HAProxy's default): up, but the first failure takes it
 * down. `down`: down, the first success brings it up. `fully-down`: needs `rise` successes.
 */
export function initialHealth(rf: RiseFall, init: InitState): HealthState {
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

export function healthPhase(rf: RiseFall, s: HealthState): HealthPhase {
  if (s.up) return s.health >= max(rf) ? "up" : "going-down";
  return s.health <= 0 ? "down" : "going-up";
}

/** The interval until the next check in this state (HAProxy `srv_getinter`). */
export function checkInterval(rf: RiseFall, iv: Intervals, s: HealthState): number {
  const p = healthPhase(rf, s);
  if (p === "up") return iv.inter;
  if (p === "down") return iv.downinter;
  return iv.fastinter;
}

/** Apply one check result. */
export function recordCheck(rf: RiseFall, s: HealthState, ok: boolean): HealthStep {
  if (ok) {
    if (s.up) return { state: { up: true, health: max(rf) } };
    const health = s.health + 1;
    if (health >= rf.rise) return { state: { up: true, health: max(rf) }, transition: "up" };
    return { state: { up: false, health } };
  }
  if (!s.up) return { state: { up: false, health: 0 } };
  if (s.health > rf.rise) return { state: { up: true, health: s.health - 1 } };
  return { state: { up: false, health: 0 }, transition: "down" };
}

/**
 * HAProxy `on-error sudden-death`: "a pre-fatal failed check": the counter drops to just above `rise`, then
 * counts one failure, so the next failed check takes the server down (with `fall 1`, this one does).
 */
export function suddenDeath(rf: RiseFall, s: HealthState): HealthStep {
  if (!s.up) return { state: { up: false, health: 0 } };
  const health = s.health > rf.rise ? rf.rise + 1 : s.health;
  return recordCheck(rf, { up: true, health }, false);
}

/** HAProxy `on-error mark-down`: down now, rise successes needed to come back. */
export function markDown(_rf: RiseFall, s: HealthState): HealthStep {
  if (!s.up) return { state: { up: false, health: 0 } };
  return { state: { up: false, health: 0 }, transition: "down" };
}
