// Round scheduling for the interleaved proxy bench: every round runs every peer once, the order rotated by one
// each round, so no peer always runs first (cold caches) or always follows the same neighbour.

/** The run order of each round: round r is `peers` rotated left by r. */
export function roundOrders<T>(peers: readonly T[], rounds: number): T[][] {
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`bench: rounds ${rounds} must be an integer ≥ 1`);
  const n = peers.length;
  const out: T[][] = [];
  for (let r = 0; r < rounds; r++) {
    const k = n === 0 ? 0 : r % n;
    out.push([...peers.slice(k), ...peers.slice(0, k)]);
  }
  return out;
}
