import type { Lease } from "@lbkit/balancer";
import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { Backend, type QueueClient, type ServerMeta } from "./backend.js";
import { normaliseBackend } from "./config.js";

function backend(time: FakeTime, over: object = {}) {
  const cfg = normaliseBackend(0, {
    id: "be",
    balance: "first",
    maxqueue: 2,
    timeouts: { queue: 1000 },
    servers: [
      { id: "a", address: "127.0.0.1", port: 1, maxconn: 1 },
      { id: "b", address: "127.0.0.1", port: 2, maxconn: 1 },
    ],
    ...over,
  });
  return new Backend(cfg, time, time);
}

class Client implements QueueClient {
  readonly pickContext = {};
  lease: Lease<ServerMeta> | undefined;
  expiredAt: number | undefined;
  readonly avoid: string | undefined;
  constructor(
    private readonly time: FakeTime,
    avoid?: string,
  ) {
    this.avoid = avoid;
  }
  granted(lease: Lease<ServerMeta>): void {
    this.lease = lease;
  }
  expired(): void {
    this.expiredAt = this.time.now();
  }
}

describe("Backend", () => {
  it("hands out servers below maxconn, then queues FIFO, serves the queue as slots free, expires after timeout queue", async () => {
    const time = new FakeTime();
    const be = backend(time);
    const l1 = be.acquire({});
    const l2 = be.acquire({});
    expect(typeof l1 !== "string" && l1.server.id).toBe("a");
    expect(typeof l2 !== "string" && l2.server.id).toBe("b");
    expect(be.acquire({})).toBe("full");
    const c1 = new Client(time);
    const c2 = new Client(time);
    const c3 = new Client(time);
    expect(be.enqueue(c1)).toBeDefined();
    await time.advance(100);
    expect(be.enqueue(c2)).toBeDefined();
    expect(be.enqueue(c3)).toBeUndefined(); // maxqueue 2
    be.finish(l2 as Lease<ServerMeta>, { ok: true, status: 200 });
    expect(c1.lease?.server.id).toBe("b");
    expect(c2.lease).toBeUndefined();
    await time.advance(999);
    expect(c2.expiredAt).toBeUndefined();
    await time.advance(1);
    expect(c2.expiredAt).toBe(1100);
    expect(be.queue.length).toBe(0);
    expect(time.pending).toBe(0);
  });

  it("avoids the server a redispatch moves away from, unless it is the only one", () => {
    const time = new FakeTime();
    const be = backend(time, {
      servers: [
        { id: "a", address: "127.0.0.1", port: 1 },
        { id: "b", address: "127.0.0.1", port: 2 },
      ],
    });
    const l = be.acquire({}, "a");
    expect(typeof l !== "string" && l.server.id).toBe("b");
    be.setServer("b", { state: "maint" });
    const only = be.acquire({}, "a");
    expect(typeof only !== "string" && only.server.id).toBe("a");
    be.setServer("a", { state: "down" });
    expect(be.acquire({}, "a")).toBe("none");
  });

  it("answers a queued request at once when its backend loses every server", () => {
    const time = new FakeTime();
    const be = backend(time, { servers: [{ id: "a", address: "127.0.0.1", port: 1, maxconn: 1 }] });
    const l = be.acquire({});
    const c = new Client(time);
    be.enqueue(c);
    be.setServer("a", { state: "maint" });
    be.finish(l as Lease<ServerMeta>, { ok: true });
    expect(c.expiredAt).toBe(0);
  });

  it("adds and removes servers at run time, and validates them", () => {
    const be = backend(new FakeTime());
    be.addServer({ id: "c", address: "127.0.0.1", port: 3 });
    expect(be.pool.get("c")).toBeDefined();
    expect(() => be.addServer({ id: "c", address: "127.0.0.1", port: 3 })).toThrow(/already exists/);
    expect(() => be.addServer({ id: "d", address: "127.0.0.1", port: 0 })).toThrow(/port 0/);
    be.removeServer("c");
    expect(be.pool.get("c")).toBeUndefined();
    expect(() => be.removeServer("c")).toThrow(/does not exist/);
  });

  it("reports each request's outcome once to the lease and to passive health, except a client's abort", () => {
    const be = backend(new FakeTime());
    const seen: unknown[] = [];
    be.checker.observe = (id, outcome) => seen.push([id, outcome]);
    const server = be.pool.servers[0]!;
    const failed = { ok: false, code: "conn-failure" };
    const lease = be.pool.acquire(server);
    be.finish(lease, failed);
    expect(seen).toEqual([[server.id, failed]]);
    expect(be.pool.stats().inFlight).toBe(0);
    be.finish(be.pool.acquire(server), { ok: true, code: "client-abort" });
    expect(seen.length).toBe(1);
  });
});
