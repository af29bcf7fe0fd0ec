import type { Lease, PickContext } from "@lbkit/balancer";
import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { Backend, type QueueClient, type ServerMeta } from "./backend.js";
import { normaliseBackend } from "./config.js";
import { PERSIST_COOKIE } from "./persist/persistence.js";

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
  pickContext: PickContext = {};
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
    const l1 = be.place(new Client(time));
    const l2 = be.place(new Client(time));
    expect(typeof l1 !== "string" && "server" in l1 && l1.server.id).toBe("a");
    expect(typeof l2 !== "string" && "server" in l2 && l2.server.id).toBe("b");
    const c1 = new Client(time);
    const c2 = new Client(time);
    const c3 = new Client(time);
    const w1 = be.place(c1);
    expect(typeof w1 !== "string" && "item" in w1 && w1.queue).toBe(be.queue); // no server bound: the backend's
    await time.advance(100);
    expect(typeof be.place(c2)).toBe("object");
    expect(be.place(c3)).toBe("backend-full"); // maxqueue 2
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
    const l = be.place(new Client(time, "a"));
    expect(typeof l !== "string" && "server" in l && l.server.id).toBe("b");
    be.setServer("b", { state: "maint" });
    const only = be.place(new Client(time, "a"));
    expect(typeof only !== "string" && "server" in only && only.server.id).toBe("a");
    be.setServer("a", { state: "down" });
    expect(be.place(new Client(time, "a"))).toBe("none");
  });

  it("answers a queued request at once when its backend loses every server", () => {
    const time = new FakeTime();
    const be = backend(time, { servers: [{ id: "a", address: "127.0.0.1", port: 1, maxconn: 1 }] });
    const l = be.place(new Client(time));
    const c = new Client(time);
    expect(typeof be.place(c)).toBe("object"); // queued
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

const leaseOf = (p: unknown) => p as Lease<ServerMeta>;
const to = (time: FakeTime, id: string) => {
  const c = new Client(time);
  c.pickContext = { cookies: { [PERSIST_COOKIE]: id } };
  return c;
};

describe("per-server queues (HAProxy's srv_queue)", () => {
  const persisted = (time: FakeTime, over: object = {}) =>
    backend(time, {
      balance: "roundrobin",
      maxqueue: 0,
      cookie: { name: "SRV" },
      servers: [
        { id: "a", address: "127.0.0.1", port: 1, maxconn: 1, maxqueue: 1 },
        { id: "b", address: "127.0.0.1", port: 2, maxconn: 1 },
      ],
      ...over,
    });

  it("a persisted request waits for its own server though another has room, and gets it when a slot frees", () => {
    const time = new FakeTime();
    const be = persisted(time);
    const first = be.place(to(time, "a"));
    expect(leaseOf(first).server.id).toBe("a");
    const c = to(time, "a");
    const w = be.place(c);
    expect(be.serverQueue("a")?.length).toBe(1);
    expect(be.queue.length).toBe(0);
    expect(w).toMatchObject({ pos: 0 });
    // an unbound request does not overtake a's queue: b has room
    expect(leaseOf(be.place(new Client(time))).server.id).toBe("b");
    be.finish(leaseOf(first), { ok: true, status: 200 });
    expect(c.lease?.server.id).toBe("a");
    expect(be.serverQueue("a")?.length).toBe(0);
    expect(be.serverQueue("a")?.peak).toBe(1);
  });

  it("a full server queue refuses without redispatch, and balances the request again with it", () => {
    const time = new FakeTime();
    const off = persisted(time, { redispatch: false });
    off.place(to(time, "a"));
    off.place(to(time, "a"));
    expect(off.place(to(time, "a"))).toBe("server-full"); // maxqueue 1
    const on = persisted(time);
    on.place(to(time, "a"));
    on.place(to(time, "a"));
    expect(leaseOf(on.place(to(time, "a"))).server.id).toBe("b");
  });

  it("a hash-bound request waits for its server, and a full server queue answers 503 even with redispatch", () => {
    const time = new FakeTime();
    const be = backend(time, {
      balance: "source",
      maxqueue: 0,
      servers: [
        { id: "a", address: "127.0.0.1", port: 1, maxconn: 1, maxqueue: 1 },
        { id: "b", address: "127.0.0.1", port: 2, maxconn: 1, maxqueue: 1 },
      ],
    });
    const c = () => {
      const x = new Client(time);
      x.pickContext = { source: "198.18.0.7" };
      return x;
    };
    const l = leaseOf(be.place(c()));
    const waiting = c();
    be.place(waiting);
    expect(be.serverQueue(l.server.id)?.length).toBe(1);
    expect(be.place(c())).toBe("server-full");
    be.finish(l, { ok: true });
    expect(waiting.lease?.server.id).toBe(l.server.id);
  });

  it("a freed slot goes to the older of the server queue's head and the backend queue's head", () => {
    const time = new FakeTime();
    const be = persisted(time, { servers: [{ id: "a", address: "127.0.0.1", port: 1, maxconn: 1 }] });
    const l = leaseOf(be.place(new Client(time)));
    const unbound = new Client(time);
    expect(be.place(unbound)).toMatchObject({ queue: be.queue });
    const bound = to(time, "a");
    be.place(bound);
    be.finish(l, { ok: true });
    expect(unbound.lease?.server.id).toBe("a"); // it came first
    expect(bound.lease).toBeUndefined();
    be.finish(unbound.lease as Lease<ServerMeta>, { ok: true });
    expect(bound.lease?.server.id).toBe("a");
  });

  it("expires server-queue waiters after timeout queue, and a removed server's waiters are balanced again", async () => {
    const time = new FakeTime();
    const be = persisted(time);
    be.place(to(time, "a"));
    const c = to(time, "a");
    be.place(c);
    await time.advance(1000);
    expect(c.expiredAt).toBe(1000);
    const d = to(time, "a");
    be.place(d);
    be.removeServer("a");
    expect(d.lease?.server.id).toBe("b");
    expect(time.pending).toBe(0);
  });
});

describe("queue options at construction", () => {
  it("rejects a bad server maxqueue or abortOnClose, naming the option", () => {
    const server = { id: "a", address: "127.0.0.1", port: 1 };
    expect(() => normaliseBackend(0, { id: "be", servers: [{ ...server, maxqueue: -1 }] })).toThrow(
      /backends\[0\]\.servers\[0\]\.maxqueue -1 must be an integer/,
    );
    expect(() => normaliseBackend(0, { id: "be", abortOnClose: "yes" as never })).toThrow(
      /backends\[0\]\.abortOnClose "yes" must be true or false/,
    );
    expect(normaliseBackend(0, { id: "be" }).abortOnClose).toBe(false);
  });
});

describe("Backend server state: administrative over operational (HAProxy)", () => {
  it("keeps maint and drain over what the checks say, up ends them, and a server configured down needs its rise checks", async () => {
    const time = new FakeTime();
    let ok = true;
    const check = async () =>
      ok
        ? { status: "up" as const, code: "L4OK" as const, reason: "ok" }
        : { status: "down" as const, code: "L4CON" as const, reason: "refused" };
    const be = backend(time, {
      healthCheck: { inter: 100, rise: 2, fall: 1 },
      servers: [
        { id: "a", address: "127.0.0.1", port: 1, check: { check }, state: "maint" },
        { id: "b", address: "127.0.0.1", port: 2, check: { check }, state: "down" },
        { id: "c", address: "127.0.0.1", port: 3, check: { check } },
        { id: "d", address: "127.0.0.1", port: 4 },
      ],
    });
    const states = () => ["a", "b", "c", "d"].map((id) => be.pool.get(id)?.state);
    be.start();
    expect(states()).toEqual(["maint", "down", "up", "up"]);
    await time.advance(250); // every server checked twice: b rises
    expect(states()).toEqual(["maint", "up", "up", "up"]);
    be.setServer("c", { state: "drain" });
    be.setServer("d", { state: "maint" });
    expect(states()).toEqual(["maint", "up", "drain", "maint"]);
    ok = false;
    await time.advance(200); // the checks fail: a stays in maintenance, c draining goes down
    expect(states()).toEqual(["maint", "down", "down", "maint"]);
    ok = true;
    await time.advance(250);
    expect(states()).toEqual(["maint", "up", "drain", "maint"]);
    be.setServer("a", { state: "up" }); // enable: as its checks say
    be.setServer("c", { state: "up" });
    be.setServer("d", { state: "up" }); // unchecked: up
    expect(states()).toEqual(["up", "up", "up", "up"]);
    ok = false;
    be.setServer("a", { state: "drain" });
    await time.advance(200);
    be.setServer("a", { state: "up" }); // out of drain into what the checks said meanwhile
    expect(states()).toEqual(["down", "down", "down", "up"]);
    be.setServer("d", { state: "down" });
    expect(be.pool.get("d")?.state).toBe("down");
    await be.stop();
  });
});
