import type { Algorithm, AlgorithmEnv, AlgorithmFactory, ObservedOutcome } from "../algorithm.js";
import { WeightedSampler } from "../fenwick.js";
import type { Server } from "../server.js";
import { checkInt, checkNumber, checkOptions } from "./options.js";

/** The cost of a server with no latency estimate but requests in flight (Finagle's penalty). */
const PENALTY = 1e9;

interface Latency {
  ewma: number;
  stamp: number;
}

/**
 * Peak-EWMA power of two choices (Finagle, Linkerd): each server's cost is its latency estimate times
 * (in-flight + 1), divided by weight; two servers are drawn by weight and the cheaper wins.
 * The estimate is "peak-sensitive": a slower sample replaces it at once, faster samples pull it down with an
 * exponential decay of time constant `decay` — so a server that slows down sheds load immediately and wins it
 * back gradually. Time comes from the pool's clock.
 */
export class PeakEwma implements Algorithm {
  readonly name = "peak-ewma";
  private readonly sampler = new WeightedSampler<Server>();
  private readonly latency = new Map<Server, Latency>();

  constructor(
    private readonly env: AlgorithmEnv,
    private readonly decay: number,
    private readonly initial: number,
    private readonly draws: number,
  ) {}

  add(server: Server): void {
    this.sampler.set(server, server.effectiveWeight);
    this.latency.set(server, { ewma: this.initial, stamp: this.env.clock.now() });
  }

  remove(server: Server): void {
    this.sampler.delete(server);
    this.latency.delete(server);
  }

  reweight(server: Server): void {
    this.sampler.set(server, server.effectiveWeight);
  }

  observe(server: Server, outcome: ObservedOutcome): void {
    const l = this.latency.get(server);
    if (!l) return;
    const now = this.env.clock.now();
    const rtt = Math.max(0, outcome.latencyMs);
    const w = Math.exp(-Math.max(0, now - l.stamp) / this.decay);
    l.ewma = rtt > l.ewma ? rtt : l.ewma * w + rtt * (1 - w);
    l.stamp = now;
  }

  /**
   * The current cost of a server (lower is better). As in Finagle, reading the estimate decays it toward 0
   * with time (an observation of 0): a server that was slow and then left alone is tried again, and the
   * first slow answer puts its peak right back.
   */
  cost(server: Server): number {
    const l = this.latency.get(server);
    const ewma = l
      ? l.ewma * Math.exp(-Math.max(0, this.env.clock.now() - l.stamp) / this.decay)
      : this.initial;
    // Finagle: a zero estimate with work in flight must not look free, or a server with no samples yet would
    // take everything
    const cost = ewma === 0 && server.inFlight > 0 ? PENALTY + server.inFlight : ewma * (server.inFlight + 1);
    return cost / Math.max(server.effectiveWeight, 1e-9);
  }

  pick(): Server | undefined {
    const random = this.env.random;
    let best = this.sampler.sample(random());
    if (!best) return undefined;
    let bestCost = this.cost(best);
    for (let i = 1; i < this.draws; i++) {
      let other = this.sampler.sample(random())!;
      // draw a distinct second server when there is one (a couple of tries is enough)
      for (let t = 0; other === best && t < 3 && this.sampler.size > 1; t++)
        other = this.sampler.sample(random())!;
      const c = this.cost(other);
      if (c < bestCost) {
        best = other;
        bestCost = c;
      }
    }
    return best;
  }

  /** Fallbacks: the other servers by cost, cheapest first (a retry should go where it is cheapest). */
  *fallbacks(_ctx: unknown, first: Server): Generator<Server> {
    const rest = [...this.latency.keys()].filter((s) => s !== first);
    if (rest.length > 64) return; // the pool completes large tiers without sorting them all
    rest.sort((a, b) => this.cost(a) - this.cost(b));
    yield* rest;
  }
}

export interface PeakEwmaOptions {
  /** Decay time constant in ms (default 10 000, Linkerd's). */
  decay?: number;
  /** Latency estimate for a server with no sample yet, in ms (default 30). */
  initialLatency?: number;
  /** Servers drawn per pick (default 2). */
  draws?: number;
}

export function peakEwma(options: PeakEwmaOptions = {}): AlgorithmFactory {
  checkOptions("peak-ewma", options, ["decay", "initialLatency", "draws"]);
  const decay = checkNumber("peak-ewma", "decay", options.decay ?? 10_000, 1);
  const initial = checkNumber("peak-ewma", "initialLatency", options.initialLatency ?? 30, 0);
  const draws = checkInt("peak-ewma", "draws", options.draws ?? 2, 1, 100);
  return { name: "peak-ewma", create: (env) => new PeakEwma(env, decay, initial, draws) };
}
