import { describe, expect, it } from "vitest";
import type { TransactionLog } from "../shell.js";
import { captureFrom, normaliseCapture } from "./capture.js";
import { accessJson, accessRecord, httplog } from "./format.js";

describe("header capture", () => {
  it("validates the option", () => {
    expect(normaliseCapture("c", undefined)).toBeUndefined();
    expect(normaliseCapture("c", { request: ["Host", "User-Agent"] })).toEqual({
      request: ["host", "user-agent"],
      response: [],
      len: 64,
    });
    expect(() => normaliseCapture("c", { request: ["bad name"] })).toThrow(/c\.request/);
    expect(() => normaliseCapture("c", { request: "host" })).toThrow(/c\.request/);
    expect(() => normaliseCapture("c", { len: 0 })).toThrow(/c\.len/);
    expect(() => normaliseCapture("c", { cookies: [] })).toThrow(/c\.cookies/);
  });

  it("clips values and leaves absent ones empty", () => {
    const head = { get: (n: string) => ({ host: "example.test", "user-agent": "x".repeat(100) })[n] };
    expect(captureFrom(["host", "user-agent", "referer"], head, 10)).toEqual([
      "example.te",
      "xxxxxxxxxx",
      "",
    ]);
    expect(captureFrom(["host"], undefined, 10)).toEqual([""]);
  });

  it("httplog shows HAProxy's {…} blocks, escaped; JSON carries them", () => {
    const e = {
      frontend: "fe",
      backend: "be",
      server: "a",
      client: "127.0.0.1",
      clientPort: 5000,
      status: 200,
      termination: "--",
      retries: 0,
      redispatches: 0,
      queuePos: -1,
      duration: 1,
      at: 0,
      timers: { request: 0, queue: 0, connect: 0, response: 1, total: 1 },
      bytesIn: 1,
      bytesOut: 2,
      method: "GET",
      path: "/",
      captured: { request: ["example.test", "a|b"], response: ["text/html"] },
    } as TransactionLog;
    expect(httplog(e)).toContain(' 0/0 {example.test|a\\|b} {text/html} "GET / HTTP/1.1"');
    expect(httplog({ ...e, captured: { request: ["h"], response: [] } })).toContain(' 0/0 {h} "GET');
    expect(JSON.parse(accessJson("request", e)).captured).toEqual(e.captured);
    expect(accessJson("request", e)).toBe(JSON.stringify(accessRecord("request", e)));
    expect(accessJson("request", e, [3, 2, 1, 1])).toBe(
      JSON.stringify(accessRecord("request", e, [3, 2, 1, 1])),
    );
    expect(httplog(e, [3, 2, 1, 1])).toContain(" 200 2 - - ---- 3/2/1/1/0 0/0 {");
  });
});
