import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { ProxyConfigError } from "../errors.js";
import { ReverseProxy } from "../proxy.js";
import type { TransactionLog } from "../shell.js";
import { AccessLog } from "./access-log.js";

const txn = (path: string): TransactionLog => ({
  frontend: "fe",
  backend: "be",
  server: "a",
  client: "127.0.0.1",
  clientPort: 40000,
  status: 200,
  termination: "--",
  retries: 0,
  redispatches: 0,
  queuePos: -1,
  duration: 1,
  at: 0,
  timers: { request: 0, queue: 0, connect: 0, response: 1, total: 1 },
  bytesIn: 10,
  bytesOut: 20,
  method: "GET",
  path,
});

function proxy(): ReverseProxy {
  // never started: the log only listens to its events, which the test emits itself
  return new ReverseProxy({
    frontends: [{ id: "fe", bind: "127.0.0.1:0", defaultBackend: "be" }],
    backends: [{ id: "be", servers: [{ id: "a", address: "127.0.0.1", port: 1 }] }],
  });
}

describe("AccessLog batching", () => {
  it("gathers lines for flushInterval and writes them as one batch; nothing after stop", async () => {
    const time = new FakeTime();
    const p = proxy();
    const batches: string[][] = [];
    const log = new AccessLog({ proxy: p, to: (l) => batches.push(l), time, flushInterval: 10 });
    await log.start();
    for (let i = 0; i < 5; i++) p.emit("request", txn(`/${i}`));
    time.advanceSync(9);
    expect(batches).toEqual([]);
    time.advanceSync(1);
    expect(batches.length).toBe(1);
    expect(batches[0]?.map((l) => JSON.parse(l).path)).toEqual(["/0", "/1", "/2", "/3", "/4"]);
    p.emit("session", { ...txn("/x"), status: undefined, method: undefined, path: undefined });
    await log.stop(); // flushes what is pending at once
    expect(batches.length).toBe(2);
    expect(JSON.parse(batches[1]?.[0] as string)).toMatchObject({ type: "tcp", client_port: 40000 });
    p.emit("request", txn("/late"));
    time.advanceSync(100);
    expect(batches.length).toBe(2);
  });

  it("reports a throwing destination as an error event, not a crash", async () => {
    const time = new FakeTime();
    const p = proxy();
    const log = new AccessLog({
      proxy: p,
      to: () => {
        throw new Error("disk full");
      },
      time,
    });
    const errors: Error[] = [];
    log.on("error", (e) => errors.push(e));
    await log.start();
    p.emit("request", txn("/"));
    time.advanceSync(10);
    expect(errors[0]?.message).toMatch(/access log: write failed: disk full/);
    expect((errors[0] as { code?: string }).code).toBe("ERR_LOG");
    await log.stop();
  });

  it("validates its options", () => {
    const p = proxy();
    const to = () => {};
    expect(() => new AccessLog({ proxy: p, to: 42 as never })).toThrow(ProxyConfigError);
    expect(() => new AccessLog({ proxy: p, to, format: "xml" as never })).toThrow(/log\.format/);
    expect(() => new AccessLog({ proxy: p, to, maxBuffered: 0 })).toThrow(/log\.maxBuffered/);
    expect(() => new AccessLog({ proxy: p, to, flushInterval: -1 })).toThrow(/log\.flushInterval/);
    expect(() => new AccessLog({ proxy: {} as never, to })).toThrow(/log\.proxy/);
  });
});
