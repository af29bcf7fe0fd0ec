import type { PickContext } from "./context.js";
import type { ServerEntry } from "./server.js";
import type { Tier } from "./tier.js";

/**
 * The ordered candidate list after the first choice: the algorithm's own fallbacks (the next ring points, the
 * next least loaded, …), then every other usable server of the tier, so a retry or redispatch can always reach
 * all of them. Each server appears once. Servers at their maxConn come last, in the order they were met, so a
 * caller that walks the list finds a server with room first and can queue on the first choice otherwise.
 */
export function* fallbackCandidates(
  tier: Tier,
  ctx: PickContext,
  first: ServerEntry,
  seen: Set<ServerEntry>,
  deferred: ServerEntry[],
): Generator<ServerEntry, void, undefined> {
  const offer = (s: ServerEntry): boolean => {
    if (seen.has(s) || !s.usable) return false;
    seen.add(s);
    if (s.full) {
      deferred.push(s);
      return false;
    }
    return true;
  };
  if (tier.algorithm.fallbacks) {
    for (const s of tier.algorithm.fallbacks(ctx, first) as Iterable<ServerEntry>) if (offer(s)) yield s;
  }
  const list = tier.list;
  const start = first.tierPos >= 0 ? first.tierPos + 1 : 0;
  for (let i = 0; i < list.length; i++) {
    const s = list[(start + i) % list.length];
    if (s && offer(s)) yield s;
  }
  yield* deferred;
}
