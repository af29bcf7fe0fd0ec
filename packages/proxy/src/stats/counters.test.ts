import { describe, expect, it } from "vitest";
import type { TransactionLog } from "../shell.js";
import {
  bump,
  HISTOGRAM_BOUNDS,
  newHistogram,
  newRate,
  newTraffic,
  observe,
  rateOf,
  record,
} from "./counters.js";

const txn = (o: Partial<TransactionLog> = {}): TransactionLog =>
  ({
    frontend: "fe",
    backend: "be",
    server: "a",
    client: "127.0.0.1",
    status: 200,
    termination: "--",
    retries: 0,
    redispatches: 0,
    queuePos: -1,
    duration: 12,
    at: 0,
    timers: { request: 0, queue: 0, connect: 1, response: 5, total: 12 },
    bytesIn: 100,
    bytesOut: 1000,
    ...o,
  }) as TransactionLog;

describe("stats counters", () => {
  it("counts bytes, statuses by class, requests and timers", () => {
    const c = newTraffic();
    record(c, txn(), 1000);
    record(c, txn({ status: 404, bytesIn: 1, bytesOut: 2 }), 1001);
    record(c, txn({ status: 101 }), 1002);
    record(c, txn({ status: 503 }), 1003);
    record(c, txn({ status: 302 }), 1004);
    expect(c.stot).toBe(5);
    expect(c.reqTot).toBe(5);
    expect(c.bin).toBe(401);
    expect(c.bout).toBe(4002);
    expect(c.hrsp).toEqual([1, 1, 1, 1, 1, 0]);
    expect(c.lastSess).toBe(1004);
    expect(c.ttime.avg).toBe(12);
    expect(c.requestTime.count).toBe(5);
  });

  it("classifies errors by HAProxy termination state", () => {
    const c = newTraffic();
    record(c, txn({ termination: "CR", status: 400, backend: undefined }), 0); // client aborted its request
    record(c, txn({ termination: "PR", status: 403 }), 0); // denied
    record(c, txn({ termination: "SC", status: 503, retries: 3 }), 0); // connection refused
    record(c, txn({ termination: "sH", status: 504 }), 0); // server timeout
    record(c, txn({ termination: "SD", status: 200 }), 0); // server aborted mid-body
    record(c, txn({ termination: "PH", status: 502 }), 0); // bad response
    record(c, txn({ termination: "CD", status: 200 }), 0); // client aborted mid-body
    record(c, txn({ termination: "IR", status: 500 }), 0);
    record(c, txn({ retries: 2, redispatches: 1 }), 0);
    expect(c.ereq).toBe(2); // CR and IR
    expect(c.dreq).toBe(1);
    expect(c.econ).toBe(1);
    expect(c.eresp).toBe(3);
    expect(c.wretr).toBe(5);
    expect(c.wredis).toBe(1);
    expect(c.cliAbrt).toBe(2);
    expect(c.srvAbrt).toBe(1); // SD; a refused connection (SC) is not an abort, as in HAProxy
    expect(c.eint).toBe(1);
  });

  it("server counters: each attempt on the server is a session, only the server's own responses count", () => {
    const s = newTraffic();
    record(s, txn({ termination: "SC", status: 503, retries: 2 }), 0, true); // 3 attempts, proxy's 503
    record(s, txn({ termination: "sH", status: 504 }), 0, true); // proxy's 504
    record(s, txn({ termination: "SH", status: 502 }), 0, true); // server closed before its head: proxy's 502
    record(s, txn({ termination: "SD", status: 200 }), 0, true); // the server's 200, cut mid-body
    record(s, txn({ termination: "CD", status: 500 }), 0, true); // the server's 500, client left
    record(s, txn({ status: 404, retries: 2, redispatches: 1 }), 0, true); // one retry here, the other elsewhere
    expect(s.stot).toBe(3 + 1 + 1 + 1 + 1 + 2);
    expect(s.hrsp).toEqual([0, 1, 0, 1, 1, 0]);
    expect(s.srvAbrt).toBe(2); // SH and SD
    const b = newTraffic();
    record(b, txn({ termination: "SC", status: 503, retries: 2 }), 0);
    expect(b.stot).toBe(1);
    expect(b.hrsp[4]).toBe(1); // a backend counts the proxy's answers too
  });

  it("averages the HAProxy timers (connect histogram only for reached connects)", () => {
    const c = newTraffic();
    const timers = { request: 1, queue: 0, connect: 3, response: 20, total: 30 };
    record(c, { ...txn(), timers } as TransactionLog, 0);
    record(c, { ...txn(), timers: { ...timers, connect: -1, response: -1 } } as TransactionLog, 0);
    expect(c.ctime.avg).toBe(3);
    expect(c.ctime.n).toBe(1);
    expect(c.connectTime.count).toBe(1);
    expect(c.requestTime.count).toBe(2);
    expect(c.ttime.max).toBe(30);
  });

  it("histograms bucket by upper bound, +Inf last", () => {
    const h = newHistogram();
    observe(h, 0.0005);
    observe(h, 0.001); // le=0.001 is inclusive
    observe(h, 0.3);
    observe(h, 99);
    expect(h.counts[0]).toBe(2);
    expect(h.counts[HISTOGRAM_BOUNDS.indexOf(0.5)]).toBe(1);
    expect(h.counts[HISTOGRAM_BOUNDS.length]).toBe(1);
    expect(h.count).toBe(4);
    expect(h.sum).toBeCloseTo(99.3015);
  });

  it("rates are events over the last second, the previous second prorated; max kept", () => {
    const r = newRate();
    for (let i = 0; i < 10; i++) bump(r, 5000 + i * 10);
    expect(rateOf(r, 5999)).toBe(10);
    expect(rateOf(r, 6500)).toBe(5);
    expect(rateOf(r, 7000)).toBe(0);
    bump(r, 6100);
    expect(rateOf(r, 6100)).toBe(10); // 1 + 10 × 0.9
    expect(r.max).toBe(10);
    expect(rateOf(r, 60_000)).toBe(0);
  });
});
