/**
 * Pure queueing decisions of a backend with per-server queues, as HAProxy makes them: a request bound to one
 * server (its persistence cookie or stick entry, or a hash `balance` that designates a server) waits in that
 * server's queue when the server is at its `maxconn`, bounded by the server's `maxqueue`; a request not bound
 * to a server waits in the backend's queue when no server has room. A server whose queue holds requests takes
 * no unbound request (they would overtake the queue). When a slot frees on a server, it takes the older of its
 * own queue's head and the backend queue's head.
 */
import type { AlgorithmFactory } from "@lbkit/balancer";

/** A server's load as the decisions read it (maxConn 0 = no limit, maxQueue 0 = unbounded). */
export interface SlotState {
  inFlight: number;
  maxConn: number;
  /** Requests waiting in the server's own queue. */
  queued: number;
  maxQueue: number;
}

/** Room for a new request now: no limit, or below maxconn with nobody waiting in the server's queue. */
export function hasRoom(s: SlotState): boolean {
  return s.maxConn === 0 || (s.queued === 0 && s.inFlight < s.maxConn);
}

/** A request bound to this server: take a slot now, wait in the server's queue, or find the queue full. */
export function placeBound(s: SlotState): "take" | "queue" | "full" {
  if (hasRoom(s)) return "take";
  return s.maxQueue > 0 && s.queued >= s.maxQueue ? "full" : "queue";
}

/**
 * The bound server's queue is full: a persisted request (cookie or stick entry) is balanced again when
 * `option redispatch` is on (HAProxy's DIRECT mode); otherwise, and always for a hash (which would choose the
 * same server again), the answer is 503.
 */
export function whenServerQueueFull(persisted: boolean, redispatch: number): "redispatch" | "refuse" {
  return persisted && redispatch !== 0 ? "redispatch" : "refuse";
}

/** What `nextWaiter` compares: the arrival order of each queue's head. */
export interface QueueHead {
  readonly order: number;
}

/**
 * A slot freed on a server: the head it serves next, the server's own queue's or the backend queue's, whichever
 * arrived first (`shared` is undefined when the server takes no unbound request: not up, or draining).
 */
export function nextWaiter(
  own: QueueHead | undefined,
  shared: QueueHead | undefined,
): "server" | "backend" | undefined {
  if (own === undefined) return shared === undefined ? undefined : "backend";
  if (shared === undefined) return "server";
  return shared.order < own.order ? "backend" : "server";
}

const HASHES = new Set([
  "source",
  "uri",
  "url_param",
  "hdr",
  "rdp-cookie",
  "hash",
  "consistent",
  "ketama",
  "maglev",
  "jump",
]);

/** The `balance` designates one server per request (a hash), so a request waits for that server. */
export function bindsServer(balance: string | AlgorithmFactory): boolean {
  const name = typeof balance === "string" ? balance : balance.name;
  const m = /^\s*([a-z_-]+)/.exec(name);
  return m !== null && HASHES.has(m[1] as string);
}
