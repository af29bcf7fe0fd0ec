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
  // the caller may await between candidates, and the pool may change meanwhile: offer only servers the tier
  // still holds (a removed server keeps its last state, so `usable` alone is not enough)
  const offer = (s: ServerEntry | undefined): s is ServerEntry => {
    if (!s || seen.has(s) || !live(tier, s)) return false;
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
    if (offer(s)) yield s;
  }
  for (const s of deferred) if (live(tier, s)) yield s;
}

/** In the tier and usable now. */
export function live(tier: Tier, s: ServerEntry): boolean {
  return tier.has(s) && s.usable;
}
