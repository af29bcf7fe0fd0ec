// Helpers shared by this package's tests (not exported from index.ts).
import type { Clock } from "./algorithm.js";
import type { PickResult } from "./pool.js";

export class FakeClock implements Clock {
  constructor(public t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A seeded uniform random in [0, 1) (mulberry32), for reproducible random algorithms. */
export function seeded(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function idOf(r: PickResult): string {
  if (!r.ok) throw new Error(r.message);
  return r.server.id;
}
