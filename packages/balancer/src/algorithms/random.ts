import type { Algorithm, AlgorithmEnv, AlgorithmFactory } from "../algorithm.js";
import { WeightedSampler } from "../fenwick.js";
import type { Server } from "../server.js";
import { checkInt, checkOptions } from "./options.js";

/** (inFlight + 1) / weight, compared without division. */
export function lessLoaded(a: Server, b: Server): boolean {
  return (a.inFlight + 1) * b.effectiveWeight < (b.inFlight + 1) * a.effectiveWeight;
}

/**
 * HAProxy `random` and `random(<draws>)`: weighted random choice in O(log n). With draws > 1 it is
 * power-of-N-choices: draw N servers by weight and take the least loaded (relative to weight).
 */
export class WeightedRandom implements Algorithm {
  readonly name: string;
  private readonly sampler = new WeightedSampler<Server>();

  constructor(
    private readonly env: AlgorithmEnv,
    private readonly draws: number,
  ) {
    this.name = draws === 1 ? "random" : `random(${draws})`;
  }

  add(server: Server): void {
    this.sampler.set(server, server.effectiveWeight);
  }

  remove(server: Server): void {
    this.sampler.delete(server);
  }

  reweight(server: Server): void {
    this.sampler.set(server, server.effectiveWeight);
  }

  pick(): Server | undefined {
    const random = this.env.random;
    let best = this.sampler.sample(random());
    if (!best) return undefined;
    for (let i = 1; i < this.draws; i++) {
      const other = this.sampler.sample(random())!;
      if (lessLoaded(other, best)) best = other;
    }
    return best;
  }

  /** More weighted draws, skipping servers already offered; the pool completes the list after that. */
  *fallbacks(_ctx: unknown, first: Server): Generator<Server> {
    const seen = new Set<Server>([first]);
    const limit = Math.min(this.sampler.size, 16);
    for (let tries = 0; seen.size < limit && tries < 4 * limit; tries++) {
      const s = this.sampler.sample(this.env.random());
      if (s && !seen.has(s)) {
        seen.add(s);
        yield s;
      }
    }
  }
}

export interface RandomOptions {
  /** Servers drawn per pick; the least loaded wins. 1 = plain weighted random. Default 1. */
  draws?: number;
}

/** HAProxy `random` (draws 1) or `random(<draws>)` (power of N choices). */
export function random(options: RandomOptions = {}): AlgorithmFactory {
  checkOptions("random", options, ["draws"]);
  const draws = checkInt("random", "draws", options.draws ?? 1, 1, 100);
  return {
    name: draws === 1 ? "random" : `random(${draws})`,
    create: (env) => new WeightedRandom(env, draws),
  };
}

/** Power of two choices: `random({ draws: 2 })`. */
export function p2c(options: Record<string, never> = {}): AlgorithmFactory {
  checkOptions("p2c", options, []);
  return random({ draws: 2 });
}
