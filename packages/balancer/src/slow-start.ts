/**
 * HAProxy `slowstart`: a server coming back from down or maintenance ramps its effective weight from 1 to its
 * configured weight over `duration` ms, so a cold cache or JIT is not flooded. Weight 0 stays 0.
 *
 * The ramp advances in {@link RAMP_STEPS} equal time steps (each step's weight is the linear ramp's value at
 * the step's start, rounded up, at least 1), so an algorithm sees at most that many weight changes per ramp,
 * whatever the pick rate.
 */
export const RAMP_STEPS = 20;

export interface Ramp {
  /** The effective weight now. */
  weight: number;
  /** Elapsed time (ms since the ramp began) at which the weight changes next; undefined once the ramp is over. */
  next: number | undefined;
}

export function ramp(weight: number, elapsed: number, duration: number): Ramp {
  if (weight === 0 || duration <= 0 || elapsed >= duration) return { weight, next: undefined };
  const step = duration / RAMP_STEPS;
  const k = Math.max(0, Math.floor(elapsed / step));
  if (k >= RAMP_STEPS) return { weight, next: undefined };
  return { weight: Math.max(1, Math.ceil((weight * k) / RAMP_STEPS)), next: (k + 1) * step };
}

/** The effective weight `elapsed` ms into a ramp of `duration` ms. */
export function rampWeight(weight: number, elapsed: number, duration: number): number {
  return ramp(weight, elapsed, duration).weight;
}
