/**
 * HAProxy `slowstart`: a server coming back from down or maintenance ramps its effective weight from 1 to its
 * configured weight over `duration` ms, so a cold cache or JIT is not flooded. Weight 0 stays 0.
 */
export function rampWeight(weight: number, elapsed: number, duration: number): number {
  if (weight === 0 || duration <= 0 || elapsed >= duration) return weight;
  if (elapsed <= 0) return 1;
  return Math.max(1, Math.ceil((weight * elapsed) / duration));
}

/** How often a ramp needs re-evaluating: the time one weight step takes (at least 1 ms). */
export function rampStep(weight: number, duration: number): number {
  return Math.max(1, duration / Math.max(1, weight));
}
