// A careless or hostile caller: random pool operations with invalid arguments mixed in, across every algorithm.
// Whatever comes in, a thrown error is a BalancerError with a stable code (never a plain TypeError), and pick(),
// candidates() and release() never throw at all.
import { FakeTime, seeded } from "@lbkit/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AlgorithmFactory } from "./algorithm.js";
import { first } from "./algorithms/first.js";
import {
  boundedLoad,
  hash,
  hdr,
  jumpHash,
  ketama,
  maglev,
  rdpCookie,
  source,
  uri,
  urlParam,
} from "./algorithms/hashed.js";
import { leastConn } from "./algorithms/leastconn.js";
import { peakEwma } from "./algorithms/peak-ewma.js";
import { random } from "./algorithms/random.js";
import { roundRobin, staticRoundRobin } from "./algorithms/roundrobin.js";
import { BalancerError } from "./errors.js";
import { type Lease, Pool } from "./pool.js";

const ALGORITHMS: [string, () => AlgorithmFactory][] = [
  ["roundrobin", roundRobin],
  ["static-rr", staticRoundRobin],
  ["leastconn", leastConn],
  ["first", first],
  ["random", random],
  ["random(2)", () => random({ draws: 2 })],
  ["peak-ewma", peakEwma],
  ["source", source],
  ["uri consistent", () => uri({ hashType: "consistent", depth: 2 })],
  ["url_param", () => urlParam("u")],
  ["hdr maglev", () => hdr("host", { hashType: "maglev" })],
  ["rdp-cookie jump", () => rdpCookie("mstshash", { hashType: "jump" })],
  ["hash", hash],
  ["hash with a key function returning junk", () => hash({ key: (ctx) => (ctx as { junk?: string }).junk })],
  ["ketama", ketama],
  ["maglev", maglev],
  ["jump", jumpHash],
  ["bounded load", boundedLoad],
];

const CODES = new Set(["ERR_CONFIG", "ERR_UNKNOWN_SERVER", "ERR_INVALID_ARGUMENT"]);

const junk = fc.anything({ maxDepth: 2 });
const id = fc.oneof(
  fc.integer({ min: 0, max: 7 }).map((i) => `s${i}`),
  junk,
);
const context = fc.oneof(
  junk,
  fc.record(
    {
      key: fc.oneof(fc.string(), junk),
      source: fc.oneof(fc.constant("198.18.0.7:4000"), fc.ipV6(), junk),
      uri: fc.oneof(fc.constant("/a/b?u=1"), junk),
      headers: fc.oneof(
        fc.record({ host: fc.oneof(fc.string(), junk), cookie: fc.oneof(fc.constant("SRV=s1"), junk) }),
        junk,
      ),
      cookies: fc.oneof(fc.record({ SRV: fc.oneof(fc.constant("s2"), junk) }), junk),
      rdp: fc.oneof(fc.string(), fc.uint8Array({ maxLength: 40 }), junk),
      junk,
    },
    { requiredKeys: [] },
  ),
);
const op = fc.oneof(
  fc.record({
    kind: fc.constant("add" as const),
    spec: fc.oneof(
      fc.record({
        id: fc.integer({ min: 0, max: 7 }).map((i) => `s${i}`),
        weight: fc.oneof(fc.integer({ min: 0, max: 256 }), junk),
        backup: fc.boolean(),
      }),
      junk,
    ),
  }),
  fc.record({ kind: fc.constant("remove" as const), id }),
  fc.record({
    kind: fc.constant("weight" as const),
    id,
    w: fc.oneof(fc.integer({ min: 0, max: 256 }), junk),
  }),
  fc.record({
    kind: fc.constant("state" as const),
    id,
    s: fc.oneof(fc.constantFrom("up", "down", "drain", "maint"), junk),
  }),
  fc.record({ kind: fc.constant("maxConn" as const), id, n: fc.oneof(fc.integer({ min: 0, max: 3 }), junk) }),
  fc.record({ kind: fc.constant("pick" as const), ctx: context, hold: fc.boolean() }),
  fc.record({ kind: fc.constant("candidates" as const), ctx: context, take: fc.integer({ min: 0, max: 4 }) }),
  fc.record({
    kind: fc.constant("acquire" as const),
    server: fc.oneof(id, fc.constant(undefined), fc.constant(null)),
  }),
  fc.record({
    kind: fc.constant("release" as const),
    outcome: fc.oneof(junk, fc.record({ ok: fc.boolean() })),
  }),
  fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
);

/** Runs `f`; an exception must be a BalancerError with a known code. */
function guarded(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof BalancerError)) throw new Error(`not a BalancerError: ${String(e)}`, { cause: e });
    expect(CODES.has(e.code)).toBe(true);
    expect(e.message.startsWith("balancer: ")).toBe(true);
  }
}

describe("hostile calls: only BalancerErrors, and pick/candidates/release never throw", () => {
  for (const [name, factory] of ALGORITHMS) {
    it(name, () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 60 }), fc.integer(), fc.boolean(), (ops, seed, persistence) => {
          const time = new FakeTime();
          const pool = new Pool({
            algorithm: factory(),
            servers: [{ id: "s0" }, { id: "s1", weight: 3 }, { id: "s2", backup: true }],
            slowStart: 5_000,
            clock: time,
            random: seeded(seed),
            ...(persistence ? { cookie: "SRV" } : {}),
          });
          const leases: Lease[] = [];
          for (const o of ops) {
            switch (o.kind) {
              case "add":
                guarded(() => pool.add(o.spec as never));
                break;
              case "remove":
                guarded(() => pool.remove(o.id as never));
                break;
              case "weight":
                guarded(() => pool.setWeight(o.id as never, o.w as never));
                break;
              case "state":
                guarded(() => pool.setState(o.id as never, o.s as never));
                break;
              case "maxConn":
                guarded(() => pool.setMaxConn(o.id as never, o.n as never));
                break;
              case "acquire":
                guarded(() => leases.push(pool.acquire(o.server as never)));
                break;
              case "release":
                leases.shift()?.release(o.outcome as never);
                break;
              case "tick":
                time.advanceSync(o.ms);
                break;
              case "candidates": {
                let n = 0;
                for (const c of pool.candidates(o.ctx as never)) {
                  expect(["up", "drain"]).toContain(c.state);
                  if (++n >= o.take) break;
                }
                break;
              }
              case "pick": {
                const usable = pool.servers.some((s) => s.state === "up" && s.effectiveWeight > 0);
                const r = pool.pick(o.ctx as never);
                if (usable) expect(r.ok).toBe(true);
                if (!r.ok) {
                  expect(r.reason).toBe("no-server-available");
                  break;
                }
                // a draining server is reached only through its persistence cookie
                if (!persistence || r.server.state !== "drain") {
                  expect(r.server.state).toBe("up");
                  expect(r.server.effectiveWeight).toBeGreaterThan(0);
                }
                if (o.hold) leases.push(pool.acquire(r.server));
                break;
              }
            }
          }
          // every lease still held is counted, including those on servers removed meanwhile
          expect(pool.stats().inFlight).toBe(leases.length);
        }),
        { numRuns: 100 },
      );
    }, 60_000);
  }
});

describe("the bad arguments a probe found", () => {
  it("acquire(undefined | null | junk) is a BalancerError ERR_INVALID_ARGUMENT", () => {
    const pool = new Pool({ servers: [{ id: "a" }] });
    for (const bad of [undefined, null, 42, {}, { id: 7 }]) {
      expect(() => pool.acquire(bad as never)).toThrow(BalancerError);
      try {
        pool.acquire(bad as never);
      } catch (e) {
        expect((e as BalancerError).code).toBe("ERR_INVALID_ARGUMENT");
        expect((e as Error).message).toMatch(/^balancer: acquire\(\) needs a server or a server id, got /);
      }
    }
    expect(pool.stats().inFlight).toBe(0);
  });

  it("pick(null) with cookie persistence, pick({ source: 42 }), pick({ uri: {} }) balance as without the key", () => {
    const persistent = new Pool({ cookie: "SRV", servers: [{ id: "a" }, { id: "b" }] });
    expect(persistent.pick(null as never).ok).toBe(true);
    expect(persistent.pick({ cookies: 5 } as never).ok).toBe(true);
    expect([...persistent.candidates(null as never)].map((s) => s.id).sort()).toEqual(["a", "b"]);
    const bySource = new Pool({ algorithm: "source", servers: [{ id: "a" }, { id: "b" }] });
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = bySource.pick({ source: 42 } as never);
      if (r.ok) seen.add(r.server.id);
    }
    // no key: round-robin, as HAProxy does for a request without the key
    expect([...seen].sort()).toEqual(["a", "b"]);
    for (const algorithm of ["uri", "url_param(u)", "uri hash-type consistent"]) {
      const pool = new Pool({ algorithm, servers: [{ id: "a" }, { id: "b" }] });
      expect(pool.pick({ uri: {} } as never).ok).toBe(true);
    }
    const byHeader = new Pool({ algorithm: "hdr(host)", servers: [{ id: "a" }] });
    expect(byHeader.pick({ headers: { host: [1, 2] } } as never).ok).toBe(true);
    expect(byHeader.pick({ headers: { get: () => 42 } } as never).ok).toBe(true);
  });

  it("release(junk) counts the request as ok and measures its latency", () => {
    const time = new FakeTime();
    const pool = new Pool({ clock: time, servers: [{ id: "a" }] });
    const lease = pool.acquire("a");
    time.advanceSync(7);
    lease.release("fine" as never);
    expect(pool.get("a")!.stats).toMatchObject({ completed: 1, failed: 0, totalLatencyMs: 7, inFlight: 0 });
  });
});
