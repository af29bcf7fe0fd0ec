import { LbkitError } from "@lbkit/core";
import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { idOf } from "../test/support.js";
import type { Algorithm, AlgorithmFactory } from "./algorithm.js";
import { leastConn } from "./algorithms/leastconn.js";
import { BalancerConfigError, BalancerError } from "./errors.js";
import { Pool } from "./pool.js";
import type { Server } from "./server.js";

const abc = () => [{ id: "a" }, { id: "b" }, { id: "c" }];

describe("configuration errors fail at construction, naming the value", () => {
  it.each([
    [
      { servers: [{ id: "a", weight: Number.NaN }] },
      /servers\["a"\]\.weight NaN must be an integer 0\.\.256/,
    ],
    [{ servers: [{ id: "a", weight: -1 }] }, /servers\["a"\]\.weight -1 must be/],
    [{ servers: [{ id: "a", weight: 257 }] }, /weight 257/],
    [{ servers: [{ id: "a", weight: 1.5 }] }, /weight 1\.5 must be an integer/],
    [{ servers: [{ id: "a" }, { id: "a" }] }, /server id "a" is already in the pool/],
    [{ servers: [{ id: "" }] }, /servers\[0\]\.id "" must be a non-empty string/],
    [
      { servers: [{ id: "a", wieght: 2 }] },
      /servers\[0\]\.wieght 2 is not an option \(did you mean "weight"\?\)/,
    ],
    [
      { servers: [{ id: "a", state: "sleeping" }] },
      /servers\["a"\]\.state "sleeping" must be one of "up", "down", "drain", "maint"/,
    ],
    [{ servers: [{ id: "a", port: 70000 }] }, /servers\["a"\]\.port 70000 must be an integer 0\.\.65535/],
    [
      { algorithm: "roundrobbin" },
      /algorithm "roundrobbin" is not known \(did you mean "roundrobin"\?\); known: roundrobin, static-rr/,
    ],
    [{ algorithm: "uri depth x" }, /depth needs an integer/],
    [{ algorithm: "leastconn whole" }, /"whole" does not apply to leastconn/],
    [
      { algorithm: "source hash-type ring" },
      /hash-type "ring" is not one of map-based, consistent, maglev, jump/,
    ],
    [{ slowStart: -5 }, /slowStart -5 must be milliseconds >= 0/],
    [{ sloStart: 5 }, /sloStart 5 is not an option \(did you mean "slowStart"\?\)/],
    [{ cookie: "" }, /cookie "" must be a non-empty string/],
    [{ clock: {} }, /clock \{\} must have a now\(\) method/],
  ])("%j", (options, message) => {
    expect(() => new Pool(options as never)).toThrow(BalancerConfigError);
    expect(() => new Pool(options as never)).toThrow(message);
  });

  it("config errors are BalancerError/LbkitError with code ERR_CONFIG and carry option, value and fix", () => {
    let caught: unknown;
    try {
      new Pool({ servers: [{ id: "a", weight: 300 }] });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BalancerConfigError);
    expect(caught).toBeInstanceOf(BalancerError);
    expect(caught).toBeInstanceOf(LbkitError);
    const e = caught as BalancerConfigError;
    expect([e.code, e.package, e.option, e.value, e.fix]).toEqual([
      "ERR_CONFIG",
      "balancer",
      'servers["a"].weight',
      300,
      "must be an integer 0..256 (0 stops new traffic)",
    ]);
    expect(e.message).toBe(
      'balancer: servers["a"].weight 300 must be an integer 0..256 (0 stops new traffic)',
    );
  });

  it("rejects bad runtime changes the same way", () => {
    const pool = new Pool({ servers: abc() });
    expect(() => pool.setWeight("a", Number.NaN)).toThrow(/servers\["a"\]\.weight NaN/);
    expect(() => pool.setState("a", "gone" as never)).toThrow(/state "gone"/);
    expect(() => pool.add({ id: "b" })).toThrow(/server id "b" is already in the pool/);
  });

  it("an unknown server id at run time is a BalancerError ERR_UNKNOWN_SERVER, not a config error", () => {
    const pool = new Pool({ servers: abc() });
    for (const call of [
      () => pool.setWeight("zz", 1),
      () => pool.setState("zz", "down"),
      () => pool.setMaxConn("zz", 1),
      () => pool.remove("zz"),
      () => pool.acquire("zz"),
    ]) {
      let caught: unknown;
      try {
        call();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(BalancerError);
      expect(caught).not.toBeInstanceOf(BalancerConfigError);
      expect((caught as BalancerError).code).toBe("ERR_UNKNOWN_SERVER");
      expect((caught as Error).message).toBe('balancer: no server "zz" in the pool (known: a, b, c)');
    }
  });

  it("checks a custom algorithm when the pool is built, naming what is missing", () => {
    const noPick = { name: "broken", create: () => ({ name: "broken", add() {}, remove() {} }) };
    expect(() => new Pool({ algorithm: noPick as never })).toThrow(BalancerConfigError);
    expect(() => new Pool({ algorithm: noPick as never })).toThrow(
      /algorithm "broken" must implement pick\(\)/,
    );
    const nothing = { name: "empty", create: () => ({}) };
    expect(() => new Pool({ algorithm: nothing as never })).toThrow(
      /must implement add\(\), remove\(\), pick\(\)/,
    );
    const notObject = { name: "null", create: () => null };
    expect(() => new Pool({ algorithm: notObject as never })).toThrow(/create\(env\) returned null/);
    const badOptional = {
      name: "odd",
      create: () => ({ name: "odd", add() {}, remove() {}, pick: () => undefined, fallbacks: 3 }),
    };
    expect(() => new Pool({ algorithm: badOptional as never })).toThrow(/fallbacks must be a function/);
    expect(() => new Pool({ algorithm: { name: "x" } as never })).toThrow(/must be an algorithm name/);
  });
});

describe("no server available", () => {
  it("is a typed result, never an exception, for an empty pool", () => {
    const r = new Pool().pick();
    expect(r).toEqual({
      ok: false,
      reason: "no-server-available",
      message: expect.stringContaining("pool is empty"),
    });
  });

  it("says what state the servers are in", () => {
    const pool = new Pool({ servers: abc() });
    pool.setState("a", "down");
    pool.setState("b", "maint");
    pool.setWeight("c", 0);
    const r = pool.pick();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe("balancer: no server available (1 down, 1 maint, 1 weight 0)");
    expect([...pool.candidates()]).toEqual([]);
  });

  it("holds for every algorithm", () => {
    for (const alg of [
      "roundrobin",
      "leastconn",
      "first",
      "random(2)",
      "source",
      "maglev",
      "jump",
      "peak-ewma",
    ]) {
      const pool = new Pool({ algorithm: alg, servers: [{ id: "a", state: "down" }] });
      expect(pool.pick({ key: "k", source: "1.2.3.4" }).ok).toBe(false);
    }
  });
});

describe("states and weights", () => {
  it("skips down, maint, drain and weight-0 servers and takes them back", () => {
    const pool = new Pool({ servers: [...abc(), { id: "d" }] });
    pool.setState("a", "down");
    pool.setState("b", "maint");
    pool.setState("c", "drain");
    expect(new Set(Array.from({ length: 10 }, () => idOf(pool.pick())))).toEqual(new Set(["d"]));
    pool.setWeight("d", 0);
    expect(pool.pick().ok).toBe(false);
    pool.setState("a", "up");
    expect(idOf(pool.pick())).toBe("a");
  });

  it("uses the first usable backup only while no primary is usable", () => {
    const pool = new Pool({
      servers: [{ id: "p1" }, { id: "p2" }, { id: "b1", backup: true }, { id: "b2", backup: true }],
    });
    expect(new Set(Array.from({ length: 10 }, () => idOf(pool.pick())))).toEqual(new Set(["p1", "p2"]));
    pool.setState("p1", "down");
    pool.setState("p2", "down");
    expect(Array.from({ length: 4 }, () => idOf(pool.pick()))).toEqual(["b1", "b1", "b1", "b1"]);
    expect([...pool.candidates()].map((s) => s.id)).toEqual(["b1", "b2"]);
    pool.setState("b1", "maint");
    expect(idOf(pool.pick())).toBe("b2");
    pool.setState("p2", "up");
    expect(idOf(pool.pick())).toBe("p2");
  });

  it("balances over all backups with allBackups", () => {
    const pool = new Pool({
      allBackups: true,
      servers: [
        { id: "p", state: "down" },
        { id: "b1", backup: true },
        { id: "b2", backup: true },
      ],
    });
    expect(Array.from({ length: 4 }, () => idOf(pool.pick()))).toEqual(["b1", "b2", "b1", "b2"]);
  });
});

describe("candidates", () => {
  it("lists the first choice, then every other usable server once", () => {
    const pool = new Pool({ servers: [...abc(), { id: "d", state: "down" }] });
    const c = [...pool.candidates()].map((s) => s.id);
    expect(c).toHaveLength(3);
    expect(new Set(c)).toEqual(new Set(["a", "b", "c"]));
  });

  it("follows the hash ring for retries, so a retry of the same key goes to the same second choice", () => {
    const pool = new Pool({ algorithm: "consistent", servers: [...abc(), { id: "d" }, { id: "e" }] });
    const first = [...pool.candidates({ key: "user-42" })].map((s) => s.id);
    const again = [...pool.candidates({ key: "user-42" })].map((s) => s.id);
    expect(again).toEqual(first);
    expect(new Set(first).size).toBe(5);
  });

  it("advances round-robin once per request, however many fallbacks are taken", () => {
    const pool = new Pool({ servers: abc() });
    const it1 = pool.candidates();
    expect(it1.next().value?.id).toBe("a");
    expect(it1.next().value?.id).toBe("b");
    expect(idOf(pool.pick())).toBe("b");
  });

  it("passes over servers at maxConn while others have room, and lists them last", () => {
    const pool = new Pool({ servers: [{ id: "a", maxConn: 1 }, { id: "b" }] });
    pool.acquire("a");
    for (let i = 0; i < 4; i++) expect(idOf(pool.pick())).toBe("b");
    expect([...pool.candidates()].map((s) => s.id)).toEqual(["b", "a"]);
  });
});

describe("maxConn at run time", () => {
  it("takes a new limit (an agent's maxconn:N) and 0 lifts it", () => {
    const pool = new Pool({ algorithm: "first", servers: [{ id: "a" }, { id: "b" }] });
    pool.acquire("a");
    expect(idOf(pool.pick())).toBe("a");
    pool.setMaxConn("a", 1);
    expect(idOf(pool.pick())).toBe("b");
    pool.setMaxConn("a", 0);
    expect(idOf(pool.pick())).toBe("a");
    expect(() => pool.setMaxConn("a", -1)).toThrow(/servers\["a"\]\.maxConn -1 must be an integer >= 0/);
  });
});

describe("choice: the server a request is bound to", () => {
  it("is the hash's own choice even at its maxConn, where pick moves on", () => {
    const pool = new Pool({
      algorithm: "source",
      servers: [
        { id: "a", maxConn: 1 },
        { id: "b", maxConn: 1 },
      ],
    });
    const ctx = { source: "198.18.0.9" };
    const bound = pool.choice(ctx) as Server;
    pool.acquire(bound);
    expect(pool.choice(ctx)?.id).toBe(bound.id);
    expect(idOf(pool.pick(ctx))).not.toBe(bound.id);
    expect(bound.stats.selected).toBe(2);
  });

  it("is the persisted server first, and undefined when nothing is usable", () => {
    const pool = new Pool({
      cookie: "SRV",
      servers: [
        { id: "a", cookie: "s1", maxConn: 1 },
        { id: "b", cookie: "s2" },
      ],
    });
    pool.acquire("a");
    expect(pool.choice({ cookies: { SRV: "s1" } })?.id).toBe("a");
    pool.setState("a", "down");
    pool.setState("b", "down");
    expect(pool.choice({ cookies: { SRV: "s1" } })).toBeUndefined();
  });
});

describe("first", () => {
  it("fills servers in declaration order up to their maxConn", () => {
    const pool = new Pool({
      algorithm: "first",
      servers: [
        { id: "a", maxConn: 2 },
        { id: "b", maxConn: 1 },
        { id: "c", maxConn: 5 },
      ],
    });
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = pool.pick();
      got.push(idOf(r));
      if (r.ok) pool.acquire(r.server);
    }
    expect(got).toEqual(["a", "a", "b", "c", "c"]);
  });
});

describe("cookie persistence", () => {
  it("sends a request with the cookie to its server, even while draining, but not when down", () => {
    const pool = new Pool({
      cookie: "SRV",
      servers: [
        { id: "a", cookie: "s1" },
        { id: "b", cookie: "s2" },
      ],
    });
    const ctx = { headers: { cookie: "lang=en; SRV=s2" } };
    for (let i = 0; i < 3; i++) expect(idOf(pool.pick(ctx))).toBe("b");
    pool.setState("b", "drain");
    expect(idOf(pool.pick(ctx))).toBe("b");
    expect(idOf(pool.pick())).toBe("a");
    pool.setState("b", "down");
    expect(idOf(pool.pick(ctx))).toBe("a");
    expect(idOf(pool.pick({ cookies: { SRV: "nope" } }))).toBe("a");
  });
});

describe("leases and stats", () => {
  it("counts selections, in-flight, completions, failures and latency", () => {
    const clock = new FakeTime();
    const pool = new Pool({ clock, servers: [{ id: "a" }] });
    const r = pool.pick();
    if (!r.ok) throw new Error();
    const l1 = pool.acquire(r.server);
    const l2 = pool.acquire("a");
    expect(pool.get("a")!.stats).toMatchObject({ selected: 1, inFlight: 2, peakInFlight: 2 });
    clock.advanceSync(40);
    l1.release();
    l1.release(); // idempotent
    l2.release({ ok: false, latencyMs: 10 });
    expect(pool.get("a")!.stats).toEqual({
      selected: 1,
      inFlight: 0,
      peakInFlight: 2,
      completed: 1,
      failed: 1,
      totalLatencyMs: 50,
    });
    expect(pool.stats()).toEqual({
      algorithm: "roundrobin",
      servers: 1,
      usable: 1,
      usableBackups: 0,
      inFlight: 0,
    });
  });

  it("survives a server removed while requests are in flight", () => {
    const pool = new Pool({ algorithm: leastConn(), servers: abc() });
    const lease = pool.acquire("b");
    pool.remove("b");
    expect(() => lease.release()).not.toThrow();
    expect(pool.size).toBe(2);
    expect(new Set(Array.from({ length: 6 }, () => idOf(pool.pick())))).toEqual(new Set(["a", "c"]));
  });
});

describe("slow start", () => {
  it("ramps a recovered server's weight over the duration, with injected time", () => {
    const clock = new FakeTime(1_000);
    const pool = new Pool({
      clock,
      slowStart: 10_000,
      servers: [
        { id: "a", weight: 100 },
        { id: "b", weight: 100 },
      ],
    });
    pool.setState("b", "down");
    pool.setState("b", "up");
    expect(pool.get("b")!.effectiveWeight).toBe(1);
    const shareOfB = () => {
      let b = 0;
      for (let i = 0; i < 2_000; i++) if (idOf(pool.pick()) === "b") b++;
      return b / 2_000;
    };
    expect(shareOfB()).toBeLessThan(0.02);
    clock.advanceSync(2_500);
    expect(shareOfB()).toBeCloseTo(25 / 125, 1);
    expect(pool.get("b")!.effectiveWeight).toBe(25);
    clock.advanceSync(2_500);
    pool.refresh();
    expect(pool.get("b")!.effectiveWeight).toBe(50);
    clock.advanceSync(5_000);
    expect(shareOfB()).toBeCloseTo(0.5, 2);
    expect(pool.get("b")!.effectiveWeight).toBe(100);
  });

  it("does not ramp a server that was only draining, and a server's own slowStart wins", () => {
    const clock = new FakeTime();
    const pool = new Pool({
      clock,
      slowStart: 10_000,
      servers: [
        { id: "a", weight: 10 },
        { id: "b", weight: 10, slowStart: 0 },
      ],
    });
    pool.setState("a", "drain");
    pool.setState("a", "up");
    expect(pool.get("a")!.effectiveWeight).toBe(10);
    pool.setState("b", "maint");
    pool.setState("b", "up");
    expect(pool.get("b")!.effectiveWeight).toBe(10);
  });
});

describe("a user-written algorithm", () => {
  /** Always the server with the shortest id, for the sake of a test. */
  const shortest: AlgorithmFactory = {
    name: "shortest-id",
    create(): Algorithm {
      const servers = new Set<Server>();
      return {
        name: "shortest-id",
        add: (s) => void servers.add(s),
        remove: (s) => void servers.delete(s),
        pick: () => [...servers].sort((x, y) => x.id.length - y.id.length || x.order - y.order)[0],
      };
    },
  };

  it("works with Pool, retries and backups through the one small interface", () => {
    const pool = new Pool({
      algorithm: shortest,
      servers: [{ id: "long" }, { id: "s" }, { id: "mid" }, { id: "bk", backup: true }],
    });
    expect(idOf(pool.pick())).toBe("s");
    // retries reach every usable server once, the algorithm's choice first
    expect([...pool.candidates()].map((s) => s.id)).toEqual(["s", expect.any(String), expect.any(String)]);
    expect(new Set([...pool.candidates()].map((s) => s.id))).toEqual(new Set(["s", "long", "mid"]));
    pool.setState("s", "down");
    expect(idOf(pool.pick())).toBe("mid");
    pool.setState("long", "down");
    pool.setState("mid", "down");
    expect(idOf(pool.pick())).toBe("bk");
    expect(pool.stats().algorithm).toBe("shortest-id");
  });
});

describe("the pool changing while a caller walks the candidates (it may await between them)", () => {
  it("never yields a removed or down server, deferred ones included", () => {
    const pool = new Pool({ servers: [{ id: "a", maxConn: 1 }, { id: "b" }, { id: "c" }] });
    pool.acquire("a");
    const it = pool.candidates();
    const first = it.next().value!;
    expect(first.id).not.toBe("a");
    pool.remove("a"); // deferred (full) — now gone
    pool.setState(first.id === "b" ? "c" : "b", "down");
    expect([...it].map((s) => s.id)).toEqual([]);
  });

  it("survives a ring rebuilt under a walking iterator", () => {
    const pool = new Pool({
      algorithm: "consistent",
      servers: Array.from({ length: 20 }, (_, i) => ({ id: `s${i}` })),
    });
    for (let k = 0; k < 50; k++) {
      const it = pool.candidates({ key: `k${k}` });
      it.next();
      it.next();
      for (let i = 0; i < 20; i++) if (pool.get(`s${i}`) && i % 3 !== 0) pool.remove(`s${i}`);
      const rest = [...it];
      for (const s of rest) expect(pool.get(s.id)).toBeDefined();
      for (let i = 0; i < 20; i++) if (!pool.get(`s${i}`)) pool.add({ id: `s${i}` });
    }
  });
});

describe("slow start edge cases", () => {
  const ramping = (options: ConstructorParameters<typeof Pool>[0] = {}) => {
    const clock = new FakeTime();
    const pool = new Pool({
      clock,
      slowStart: 10_000,
      servers: [
        { id: "a", weight: 2 },
        { id: "b", weight: 2 },
      ],
      ...options,
    });
    pool.setState("b", "down");
    pool.setState("b", "up");
    return { clock, pool };
  };

  it("takes a weight change during the ramp on the ramp's own schedule", () => {
    const { clock, pool } = ramping();
    clock.advanceSync(1_000);
    pool.setWeight("b", 200);
    const seen: number[] = [];
    for (let t = 0; t <= 10; t++) {
      pool.pick();
      seen.push(pool.get("b")!.effectiveWeight);
      clock.advanceSync(1_000);
    }
    // 5% steps of the linear ramp to 200, from where the ramp is (10% in), never stuck at the old schedule
    expect(seen).toEqual([20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 200]);
  });

  it("keeps warming up through a drain, and ends the ramp on down or maint", () => {
    const { clock, pool } = ramping({
      servers: [
        { id: "a", weight: 100 },
        { id: "b", weight: 100 },
      ],
    });
    clock.advanceSync(1_000);
    pool.setState("b", "drain");
    pool.setState("b", "up");
    expect(pool.get("b")!.effectiveWeight).toBe(10);
    clock.advanceSync(4_000);
    pool.refresh();
    expect(pool.get("b")!.effectiveWeight).toBe(50);
    pool.setState("b", "maint");
    pool.setState("b", "up");
    expect(pool.get("b")!.effectiveWeight).toBe(1);
  });

  it("changes an algorithm's weight at most 20 times per ramp", () => {
    const { clock, pool } = ramping({
      servers: [
        { id: "a", weight: 256 },
        { id: "b", weight: 256 },
      ],
    });
    const weights = new Set<number>();
    for (let t = 0; t < 10_000; t += 7) {
      clock.advanceSync(t - clock.now());
      pool.pick();
      weights.add(pool.get("b")!.effectiveWeight);
    }
    expect(weights.size).toBeLessThanOrEqual(20);
  });

  it("does not apply to static algorithms (static-rr, map-based, Maglev), as in HAProxy", () => {
    for (const algorithm of ["static-rr", "source", "maglev"]) {
      const { pool } = ramping({
        algorithm,
        servers: [
          { id: "a", weight: 10 },
          { id: "b", weight: 10 },
        ],
      });
      expect(pool.get("b")!.effectiveWeight, algorithm).toBe(10);
      let b = 0;
      for (let i = 0; i < 2_000; i++)
        if (idOf(pool.pick({ source: `198.18.0.${i % 250}:${i}`, key: `k${i}` })) === "b") b++;
      expect(b / 2_000, algorithm).toBeGreaterThan(0.4);
    }
  });
});

describe("latencies", () => {
  it("ignores a missing, negative or non-finite latency and measures instead", () => {
    const clock = new FakeTime();
    const pool = new Pool({ clock, algorithm: "peak-ewma", servers: [{ id: "a" }] });
    for (const latencyMs of [Number.NaN, Number.POSITIVE_INFINITY, -5]) {
      const lease = pool.acquire("a");
      clock.advanceSync(10);
      lease.release({ ok: true, latencyMs });
    }
    expect(pool.get("a")!.stats.totalLatencyMs).toBe(30);
  });
});
