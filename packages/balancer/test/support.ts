// Helpers for this package's tests only (not in src/, not shipped). Fake time and seeded random come from
// @lbkit/core/testing.
import type { PickResult } from "../src/pool.js";

/** The picked server's id; throws with the pool's message when nothing was picked. */
export function idOf(r: PickResult): string {
  if (!r.ok) throw new Error(r.message);
  return r.server.id;
}
