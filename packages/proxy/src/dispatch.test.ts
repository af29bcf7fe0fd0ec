import type { Lease } from "@lbkit/balancer";
import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { Backend, type QueueClient, type ServerMeta } from "./backend.js";
import { normaliseBackend } from "./config.js";
import { Dispatch } from "./dispatch.js";
import { newTermination, terminationState } from "./termination.js";

const client = (d: Dispatch): QueueClient => ({
  pickContext: {},
  get avoid() {
    return d.avoid;
  },
  granted: () => {},
  expired: () => {},
});

describe("Dispatch: the placing and retry bookkeeping both shells share", () => {
  const backend = (time: FakeTime, over: object = {}) =>
    new Backend(
      normaliseBackend(0, {
        id: "be",
        maxqueue: 1,
        retries: 2,
        redispatch: false,
        timeouts: { connect: 300 },
        servers: [{ id: "a", address: "127.0.0.1", port: 1, maxconn: 1 }],
        ...over,
      }),
      time,
      time,
    );

  it("leases, queues (position and Tw kept for the log), and answers a full queue with HAProxy's sQ", async () => {
    const time = new FakeTime();
    const be = backend(time);
    const d = new Dispatch();
    const lease = d.place(be, client(d), newTermination(), 0) as Lease<ServerMeta>;
    expect(lease.server.id).toBe("a");
    const q = new Dispatch();
    const tq = newTermination();
    expect(q.place(be, client(q), tq, 0)).toBe("queued");
    expect([q.queuePos, q.serverQueued]).toEqual([0, false]);
    const full = newTermination();
    expect(new Dispatch().place(be, client(new Dispatch()), full, 0)).toBe("full");
    expect(terminationState(full)).toBe("sQ");
    q.dequeued(40);
    expect(q.queueTime(100, 40)).toBe(40);
    expect(d.queueTime(100, 0)).toBe(0);
    expect(new Dispatch().queueTime(100, -1)).toBe(-1);
    q.reset();
    expect([q.queuePos, q.tQueued, q.retries]).toEqual([-1, -1, 0]);
  });

  it("counts retries and redispatches, and its turn-around timer is cancelled with the request", async () => {
    const time = new FakeTime();
    const be = backend(time);
    const d = new Dispatch();
    const a = { requestSent: false, idempotent: true, replayable: true, failure: "conn-failure" as const };
    const r = d.retry(be, "a", { ...a, retriesDone: 0, turnAround: be.turnAround(0, true, false) });
    expect(r).toEqual({ retry: true, redispatch: false, at: 300 });
    expect([d.retries, d.redispatches, d.avoid]).toEqual([1, 0, undefined]);
    let ran = 0;
    d.wait(time, 300, () => ran++);
    d.cancel(be, time);
    await time.advance(400);
    expect(ran).toBe(0);
    d.wait(time, 300, () => ran++);
    await time.advance(300);
    expect(ran).toBe(1);
    expect(d.retry(be, "a", { ...a, retriesDone: 2 })).toEqual({ retry: false });
    expect(d.retries).toBe(1);
  });
});
