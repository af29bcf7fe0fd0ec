import type { Server } from "../server.js";

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2016; HAProxy `hash-balance-factor`):
 * a server may take a new request only while its in-flight count stays below
 * ceil((total in flight + 1) × factor/100 × weight / total weight). The key's own order of servers is walked
 * until one has room, so keys stay put until their server is overloaded, and no server ever exceeds the bound.
 */
export class LoadBound {
  private inFlight = 0;
  private weight = 0;
  private readonly known = new Map<Server, { load: number; weight: number }>();

  constructor(readonly factor: number) {}

  add(server: Server): void {
    this.known.set(server, { load: server.inFlight, weight: server.effectiveWeight });
    this.inFlight += server.inFlight;
    this.weight += server.effectiveWeight;
  }

  remove(server: Server): void {
    const k = this.known.get(server);
    if (!k) return;
    this.inFlight -= k.load;
    this.weight -= k.weight;
    this.known.delete(server);
  }

  update(server: Server): void {
    const k = this.known.get(server);
    if (!k) return;
    this.inFlight += server.inFlight - k.load;
    this.weight += server.effectiveWeight - k.weight;
    k.load = server.inFlight;
    k.weight = server.effectiveWeight;
  }

  /** The in-flight count the server may reach with one more request in the tier. */
  capacity(server: Server): number {
    if (this.weight <= 0) return 0;
    return Math.ceil((((this.inFlight + 1) * this.factor) / 100) * (server.effectiveWeight / this.weight));
  }

  hasRoom(server: Server): boolean {
    return server.inFlight < this.capacity(server);
  }

  /** The first server of `order` with room; the first of all if none has (cannot happen with factor ≥ 100). */
  choose(order: Iterable<Server>): Server | undefined {
    let first: Server | undefined;
    for (const s of order) {
      first ??= s;
      if (this.hasRoom(s)) return s;
    }
    return first;
  }
}
