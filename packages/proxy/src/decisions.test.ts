import { describe, expect, it } from "vitest";
import { WaitQueue } from "./queue.js";
import { decideRetry, RETRY_ON, type RetryPolicy, roundRobinKind } from "./retry.js";
import { newTermination, note, resetTermination, type TxnEvent, terminationState } from "./termination.js";

const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  retries: 3,
  redispatch: -1,
  retryOn: new Set(RETRY_ON),
  ...over,
});

describe("decideRetry", () => {
  const base = {
    retriesDone: 0,
    failure: "conn-failure" as const,
    requestSent: false,
    idempotent: false,
    replayable: true,
  };
  it("retries a connection failure whatever the method, redispatching on the last retry by default", () => {
    expect(decideRetry(policy(), base)).toEqual({ retry: true, redispatch: false });
    expect(decideRetry(policy(), { ...base, retriesDone: 2 })).toEqual({ retry: true, redispatch: true });
    expect(decideRetry(policy(), { ...base, retriesDone: 3 })).toEqual({ retry: false });
  });
  it("redispatch 1 = every retry, 2 = every other, 0 = never", () => {
    expect(decideRetry(policy({ redispatch: 1 }), base)).toEqual({ retry: true, redispatch: true });
    expect(decideRetry(policy({ redispatch: 2 }), base)).toEqual({ retry: true, redispatch: false });
    expect(decideRetry(policy({ redispatch: 2 }), { ...base, retriesDone: 1 })).toEqual({
      retry: true,
      redispatch: true,
    });
    expect(decideRetry(policy({ redispatch: 0 }), { ...base, retriesDone: 2 })).toEqual({
      retry: true,
      redispatch: false,
    });
    expect(decideRetry(policy({ redispatch: -2 }), { ...base, retriesDone: 1 })).toEqual({
      retry: true,
      redispatch: true,
    });
  });
  it("never retries a non-idempotent request that reached the server", () => {
    const post = { ...base, failure: "empty-response" as const, requestSent: true, idempotent: false };
    expect(decideRetry(policy(), post)).toEqual({ retry: false });
    expect(decideRetry(policy(), { ...post, idempotent: true })).toEqual({ retry: true, redispatch: false });
    expect(decideRetry(policy(), { ...post, idempotent: true, replayable: false })).toEqual({ retry: false });
  });
  it("honours retry-on and retries 0", () => {
    expect(
      decideRetry(policy({ retryOn: new Set(["conn-failure"]) }), {
        ...base,
        failure: "response-timeout",
        idempotent: true,
        requestSent: true,
      }),
    ).toEqual({ retry: false });
    expect(decideRetry(policy({ retries: 0 }), base)).toEqual({ retry: false });
  });
});

describe("the turn-around before retrying the same server (HAProxy back_handle_st_cer)", () => {
  const refused = {
    retriesDone: 0,
    failure: "conn-failure" as const,
    requestSent: false,
    idempotent: true,
    replayable: true,
  };
  const ta = (over: object = {}) => ({
    now: 10_000,
    connectTimeout: 5000,
    error: true,
    reused: false,
    roundRobin: true,
    activeServers: 2,
    direct: true, // persistence chose the server: round-robin alone does not move the retry
    ...over,
  });
  it("waits min(timeout connect, 1 s) after a refused connection when the retry stays on the same server", () => {
    expect(decideRetry(policy(), { ...refused, turnAround: ta() })).toEqual({
      retry: true,
      redispatch: false,
      at: 11_000,
    });
    expect(decideRetry(policy(), { ...refused, turnAround: ta({ connectTimeout: 300 }) })).toEqual({
      retry: true,
      redispatch: false,
      at: 10_300,
    });
  });
  it("with option redispatch, round-robin over several servers redispatches every retry at once unless persistence chose the server (sess_update_st_cer)", () => {
    for (const retriesDone of [0, 1, 2])
      expect(decideRetry(policy(), { ...refused, retriesDone, turnAround: ta({ direct: false }) })).toEqual({
        retry: true,
        redispatch: true,
      });
    // not with redispatch off, a non round-robin algorithm, or a single usable server
    expect(decideRetry(policy({ redispatch: 0 }), { ...refused, turnAround: ta({ direct: false }) })).toEqual(
      { retry: true, redispatch: false, at: 11_000 },
    );
    expect(
      decideRetry(policy(), { ...refused, turnAround: ta({ direct: false, roundRobin: false }) }),
    ).toEqual({ retry: true, redispatch: false, at: 11_000 });
    expect(
      decideRetry(policy(), { ...refused, turnAround: ta({ direct: false, activeServers: 1 }) }),
    ).toEqual({ retry: true, redispatch: false, at: 11_000 });
  });
  it("with option redispatch, a retry leaves a server that is no longer running, even a persisted one", () => {
    expect(decideRetry(policy(), { ...refused, turnAround: ta({ serverDown: true }) })).toEqual({
      retry: true,
      redispatch: true,
    });
    expect(
      decideRetry(policy({ redispatch: 0 }), { ...refused, turnAround: ta({ serverDown: true }) }),
    ).toEqual({ retry: true, redispatch: false, at: 11_000 });
  });
  it("retries at once when it redispatches with round-robin over several servers", () => {
    expect(decideRetry(policy({ redispatch: 1 }), { ...refused, turnAround: ta() })).toEqual({
      retry: true,
      redispatch: true,
    });
  });
  it("waits even on a redispatch when another server is unlikely: a non round-robin algorithm or one server", () => {
    expect(
      decideRetry(policy({ redispatch: 1 }), { ...refused, turnAround: ta({ roundRobin: false }) }),
    ).toEqual({
      retry: true,
      redispatch: true,
      at: 11_000,
    });
    expect(
      decideRetry(policy({ redispatch: 1 }), { ...refused, turnAround: ta({ activeServers: 1 }) }),
    ).toEqual({
      retry: true,
      redispatch: true,
      at: 11_000,
    });
  });
  it("does not wait after a connect timeout, a reused connection, or a failure past the connection", () => {
    expect(decideRetry(policy(), { ...refused, turnAround: ta({ error: false }) })).toEqual({
      retry: true,
      redispatch: false,
    });
    expect(decideRetry(policy(), { ...refused, turnAround: ta({ reused: true }) })).toEqual({
      retry: true,
      redispatch: false,
    });
    expect(
      decideRetry(policy(), { ...refused, failure: "empty-response", requestSent: true, turnAround: ta() }),
    ).toEqual({ retry: true, redispatch: false });
    expect(decideRetry(policy(), { ...refused, retriesDone: 3, turnAround: ta() })).toEqual({ retry: false });
  });
});

describe("WaitQueue", () => {
  it("is FIFO, bounded by maxqueue, expires by deadline and skips cancelled entries", () => {
    const q = new WaitQueue<string>(3, 100);
    const a = q.push("a", 0);
    q.push("b", 10);
    const c = q.push("c", 20);
    expect(q.push("d", 20)).toBeUndefined();
    expect(q.length).toBe(3);
    q.cancel(a as NonNullable<typeof a>);
    expect(q.nextDeadline()).toBe(110);
    expect(q.shift()?.item).toBe("b");
    expect(q.expire(119)).toEqual([]);
    expect(q.expire(120).map((w) => w.item)).toEqual(["c"]);
    expect(c?.cancelled).toBe(false);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.nextDeadline()).toBeUndefined();
  });
  it("is unbounded with maxqueue 0 and compacts", () => {
    const q = new WaitQueue<number>(0, 5);
    for (let i = 0; i < 5000; i++) q.push(i, i);
    for (let i = 0; i < 4000; i++) expect(q.shift()?.item).toBe(i);
    expect(q.expire(4004 + 5).map((w) => w.item)).toEqual([4000, 4001, 4002, 4003, 4004]);
    expect(q.length).toBe(995);
  });
});

describe("termination state", () => {
  const run = (...events: TxnEvent[]) => terminationState(events.reduce(note, newTermination()));
  it("matches HAProxy's letters for the usual endings", () => {
    expect(run("connecting", "request-sent", "response-head", "server-done")).toBe("--");
    expect(run("client-timeout")).toBe("cR"); // slowloris: timeout http-request
    expect(run("client-abort")).toBe("CR");
    expect(run("proxy")).toBe("PR"); // deny / bad request
    expect(run("queued", "server-timeout")).toBe("sQ"); // timeout queue
    expect(run("queued", "client-abort")).toBe("CQ");
    expect(run("resource")).toBe("RR"); // queue full / no server... at request phase
    expect(run("connecting", "server-timeout")).toBe("sC"); // timeout connect
    expect(run("connecting", "server-abort")).toBe("SC"); // refused
    expect(run("connecting", "request-sent", "server-timeout")).toBe("sH"); // timeout server before headers
    expect(run("connecting", "request-sent", "server-abort")).toBe("SH");
    expect(run("connecting", "request-sent", "bad-response")).toBe("PH"); // invalid response → 502
    expect(run("connecting", "request-sent", "response-head", "server-abort")).toBe("SD");
    expect(run("connecting", "request-sent", "response-head", "client-abort")).toBe("CD");
    expect(run("connecting", "request-sent", "response-head", "server-done", "client-timeout")).toBe("cL");
    expect(run("connecting", "tunnel", "client-timeout", "server-abort")).toBe("cD"); // first cause wins
  });

  it("starts over after resetTermination, as a connection's next request does", () => {
    const t = note(note(newTermination(), "queued"), "client-abort");
    expect(terminationState(t)).toBe("CQ");
    expect(resetTermination(t)).toBe(t);
    expect(terminationState(t)).toBe("--");
    expect(terminationState(note(note(t, "connecting"), "server-abort"))).toBe("SC");
  });
});

describe("roundRobinKind", () => {
  it("is roundrobin and static-rr only, as HAProxy's BE_LB_KIND_RR", () => {
    expect(roundRobinKind("roundrobin")).toBe(true);
    expect(roundRobinKind("static-rr")).toBe(true);
    for (const b of ["leastconn", "first", "source", "random", "uri"]) expect(roundRobinKind(b)).toBe(false);
  });
});
