/**
 * The dispatch step the L7 and L4 shells share: place a request on a server or in a queue (Backend.place), and
 * after a failed connection attempt decide the retry (decideRetry, with HAProxy's turn-around), keeping the
 * bookkeeping the logs need (retries, redispatches, queue position and times). One per connection or session,
 * reset per request; the decisions themselves are pure (placement.ts, retry.ts), the sockets stay in the shells.
 */
import type { Lease } from "@lbkit/balancer";
import type { Timers } from "@lbkit/core";
import type { Backend, QueueClient, ServerMeta } from "./backend.js";
import type { Waiter } from "./queue.js";
import { type Attempt, decideRetry } from "./retry.js";
import { note, type Termination } from "./termination.js";

export class Dispatch {
  /** The server a redispatch moves away from. */
  avoid: string | undefined = undefined;
  retries = 0;
  /** Of the retries, those that went to another server. */
  redispatches = 0;
  /** Requests ahead in the queue this one joined, -1 if never queued. */
  queuePos = -1;
  /** The queue was its server's own (srv_queue), not the backend's. */
  serverQueued = false;
  tQueued = -1;
  tDequeued = -1;
  waiter: Waiter<QueueClient> | undefined = undefined;
  private turnTimer: unknown = undefined;

  /** Before a new request on the same connection. */
  reset(): void {
    this.avoid = undefined;
    this.retries = this.redispatches = 0;
    this.queuePos = this.tQueued = this.tDequeued = -1;
    this.serverQueued = false;
  }

  /**
   * A lease to connect with; "queued" (granted/expired come later); "none" (no usable server: the caller notes
   * and answers); "full" (the queue it needs is full: noted sQ for the backend's, SQ for a server's, as
   * haproxy 2.6; the caller answers 503).
   */
  place(
    be: Backend,
    client: QueueClient,
    t: Termination,
    now: number,
  ): Lease<ServerMeta> | "queued" | "none" | "full" {
    const got = be.place(client);
    if (got === "none") return "none";
    if (got === "backend-full" || got === "server-full") {
      note(t, "queued");
      note(t, got === "server-full" ? "server-abort" : "server-timeout");
      return "full";
    }
    if ("item" in got) {
      note(t, "queued");
      this.tQueued = now;
      this.queuePos = got.pos;
      this.serverQueued = got.queue !== be.queue;
      this.waiter = got;
      return "queued";
    }
    return got;
  }

  /** A queued request got its slot or expired. */
  dequeued(now: number): void {
    this.waiter = undefined;
    this.tDequeued = now;
  }

  /**
   * After a failed attempt on `server` (its lease already finished): whether to retry, counted here. `at`, when
   * set, is when the retry may go (the turn-around; `wait` arms it).
   */
  retry(be: Backend, server: string, a: Attempt): ReturnType<typeof decideRetry> {
    const d = decideRetry(be.cfg.policy, a);
    if (!d.retry) return d;
    this.retries++;
    this.avoid = d.redispatch ? server : undefined;
    if (d.redispatch) this.redispatches++;
    return d;
  }

  /** Runs `fn` after the turn-around (cancelled by `cancel`). */
  wait(timers: Timers, ms: number, fn: () => void): void {
    this.turnTimer = timers.setTimeout(() => {
      this.turnTimer = undefined;
      fn();
    }, ms);
  }

  /** The request ends while it waits: its queue place and any turn-around are given up. */
  cancel(be: Backend | undefined, timers: Timers): void {
    if (this.waiter) be?.cancelQueued(this.waiter);
    this.waiter = undefined;
    if (this.turnTimer !== undefined) timers.clearTimeout(this.turnTimer);
    this.turnTimer = undefined;
  }

  /** HAProxy's Tw: ms spent in a queue, 0 when it went straight to a server, -1 when it never got that far. */
  queueTime(now: number, tConnect: number): number {
    if (this.tQueued >= 0) return (this.tDequeued >= 0 ? this.tDequeued : now) - this.tQueued;
    return tConnect >= 0 ? 0 : -1;
  }
}
