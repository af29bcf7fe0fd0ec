import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { HealthCheckError } from "./errors.js";
import type { ChangeEvent, WeightEvent } from "./events.js";
import { HealthChecker } from "./health-checker.js";
import { type CheckResult, down, up } from "./result.js";

/** A checker whose answer the test sets; it resolves after `latency` ms of fake time. */
function scripted(time: FakeTime, latency = 5) {
  const state = { ok: true, hang: false, calls: 0, inFlight: 0, maxInFlight: 0, starts: [] as number[] };
  const check = ({ signal }: { signal: AbortSignal }) =>
    new Promise<CheckResult>((resolve) => {
      state.calls++;
      state.starts.push(time.now());
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      const done = (r: CheckResult) => {
        state.inFlight--;
        resolve(r);
      };
      signal.addEventListener("abort", () => done(down("L7TOUT", "timeout")), { once: true });
      if (state.hang) return;
      const ok = state.ok;
      time.setTimeout(() => {
        if (!signal.aborted)
          done(ok ? up("L7OK", "HTTP status 200", "OK") : down("L7STS", "HTTP status 500", "boom"));
      }, latency);
    });
  return { state, check };
}

function setup(
  opts: { rise?: number; fall?: number; inter?: number; fastinter?: number; downinter?: number } = {},
) {
  const time = new FakeTime();
  const hc = new HealthChecker({ time, random: () => 0 });
  const s = scripted(time);
  const events: ChangeEvent[] = [];
  hc.on("change", (e) => events.push(e));
  hc.add({ id: "web1", check: s.check, inter: 1000, rise: 2, fall: 3, initState: "fully-up", ...opts });
  hc.start();
  return { time, hc, s, events };
}

describe("HealthChecker on fake time", () => {
  it("goes down after exactly `fall` failures and up after exactly `rise` successes", async () => {
    const { time, hc, s, events } = setup();
    await time.advance(10);
    expect(s.state.calls).toBe(1);
    s.state.ok = false;
    await time.advance(2000); // checks at 1000, 2000: two failures
    expect(hc.status("web1")?.state).toBe("up");
    expect(hc.status("web1")?.phase).toBe("going-down");
    await time.advance(1000); // third failure at 3000
    expect(hc.status("web1")?.state).toBe("down");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: "web1",
      from: "up",
      to: "down",
      code: "L7STS",
      reason: "L7STS: HTTP status 500",
      excerpt: "boom",
      duration: 5,
    });
    expect(events[0]!.since).toBe(3005);
    s.state.ok = true;
    await time.advance(1000);
    expect(hc.status("web1")?.state).toBe("down");
    await time.advance(1000);
    expect(hc.status("web1")?.state).toBe("up");
    expect(events.map((e) => e.to)).toEqual(["down", "up"]);
    await hc.stop();
  });

  it("uses fastinter while transitioning and downinter while down", async () => {
    const { time, s } = setup({ fastinter: 100, downinter: 5000 });
    await time.advance(10);
    s.state.ok = false;
    await time.advance(990); // failure at 1000 → going down
    await time.advance(200); // fastinter: failures at 1100 and 1200 → down
    expect(s.state.starts).toEqual([0, 1000, 1100, 1200]);
    await time.advance(5000);
    expect(s.state.starts.at(-1)).toBe(6200); // downinter
  });

  it("aborts a hanging check at its timeout and counts it as a failure; never two in flight", async () => {
    const { time, hc, s } = setup({ inter: 1000 });
    hc.remove("web1");
    hc.add({ id: "web1", check: s.check, inter: 1000, timeout: 300, fall: 1, initState: "fully-up" });
    s.state.hang = true;
    const downs: ChangeEvent[] = [];
    hc.on("change", (e) => e.to === "down" && downs.push(e));
    await time.advance(1);
    await time.advance(400);
    expect(downs).toHaveLength(1);
    expect(downs[0]).toMatchObject({ code: "L7TOUT", duration: 300 });
    await time.advance(10_000);
    expect(s.state.maxInFlight).toBe(1);
    expect(s.state.inFlight).toBe(0);
  });

  it("aborts the signal with ERR_CHECK_TIMEOUT at the timeout, ERR_STOPPED at stop()", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0 });
    const reasons: unknown[] = [];
    const hang = ({ signal }: { signal: AbortSignal }) =>
      new Promise<CheckResult>((resolve) =>
        signal.addEventListener("abort", () => {
          reasons.push(signal.reason);
          resolve(down("L7TOUT", "timeout"));
        }),
      );
    hc.add({ id: "x", check: hang, inter: 1000, timeout: 300 });
    await hc.start();
    await time.advance(300);
    expect(reasons[0]).toBeInstanceOf(HealthCheckError);
    expect(reasons[0]).toMatchObject({
      code: "ERR_CHECK_TIMEOUT",
      message: "healthcheck: check timed out after 300 ms",
    });
    await time.advance(800); // the next check is in flight
    await hc.stop();
    expect(reasons[1]).toMatchObject({ code: "ERR_STOPPED" });
    expect(hc.inFlight).toBe(0);
    expect(time.pending).toBe(0); // no timer left
  });

  it("abandons a checker that ignores the abort after abortGrace", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0, abortGrace: 50 });
    const downs: ChangeEvent[] = [];
    hc.on("change", (e) => e.to === "down" && downs.push(e));
    const errors: HealthCheckError[] = [];
    hc.on("error", (e) => errors.push(e));
    hc.add({ id: "x", check: () => new Promise(() => {}), inter: 500, timeout: 200, fall: 1 });
    hc.start();
    await time.advance(300);
    expect(downs[0]).toMatchObject({ code: "TIMEOUT", duration: 250 });
    expect(hc.inFlight).toBe(0);
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      [
        "ERR_CHECK_ABANDONED",
        'healthcheck: the checker of target "x" ignored its abort for 50 ms after its 200 ms timeout and was abandoned (a checker must settle promptly when its signal aborts)',
      ],
    ]);
  });

  it("a reason with control characters reaches the change event printable", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0 });
    const changes: ChangeEvent[] = [];
    hc.on("change", (e) => changes.push(e));
    hc.add({ id: "x", check: async () => down("CUSTOM", "bad \u001b[2J\u001b]0;t\u0007 news"), fall: 1 });
    await hc.start();
    await time.advance(1);
    expect(changes[0]?.reason).toBe("CUSTOM: bad .[2J.]0;t. news");
    await hc.stop();
  });

  it("a rejecting checker counts as down with the error message", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0 });
    const downs: ChangeEvent[] = [];
    hc.on("change", (e) => e.to === "down" && downs.push(e));
    const errors: HealthCheckError[] = [];
    hc.on("error", (e) => errors.push(e));
    hc.add({ id: "x", check: async () => Promise.reject(new Error("nope")), fall: 1 });
    hc.start();
    await time.advance(1);
    expect(downs[0]?.reason).toBe("ERROR: checker failed: nope");
    expect(errors[0]).toBeInstanceOf(HealthCheckError);
    expect(errors[0]).toMatchObject({ code: "ERR_CHECKER", package: "healthcheck" });
    expect(errors[0]?.message).toMatch(/^healthcheck: the checker of target "x" rejected \(nope\)/);
  });

  it("holds the global concurrency limit across targets", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, concurrency: 3 });
    const s = scripted(time, 50);
    for (let i = 0; i < 20; i++) hc.add({ id: `t${i}`, check: s.check, inter: 100 });
    hc.start();
    await time.advance(5000);
    expect(s.state.maxInFlight).toBe(3);
    expect(s.state.calls).toBeGreaterThan(250);
    await hc.stop();
    expect(hc.inFlight).toBe(0);
  });

  it("agent words set admin state and weight; an unreachable agent changes nothing", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0 });
    let reply: CheckResult = { ...up("L7OK", "50%"), agent: { weightPercent: 50 }, weightPercent: 50 };
    const changes: ChangeEvent[] = [];
    const weights: WeightEvent[] = [];
    hc.on("change", (e) => changes.push(e));
    hc.on("weight", (e) => weights.push(e));
    hc.add({
      id: "s1",
      check: async () => up("L4OK", "connected"),
      inter: 1000,
      initState: "fully-up",
      agent: { check: async () => reply, inter: 500 },
    });
    hc.start();
    await time.advance(10);
    expect(weights).toEqual([{ id: "s1", weightPercent: 50 }]);
    reply = { ...up("L7OK", "drain"), agent: { admin: "drain" } };
    await time.advance(500);
    expect(hc.status("s1")?.state).toBe("drain");
    reply = down("L4CON", "ECONNREFUSED"); // agent gone: not an error (HAProxy)
    await time.advance(500);
    expect(hc.status("s1")?.state).toBe("drain");
    reply = { ...down("L7OK", "down #disk full"), agent: { op: "down", description: "disk full" } };
    await time.advance(500);
    expect(hc.status("s1")?.state).toBe("down");
    reply = { ...up("L7OK", "up ready"), agent: { op: "up", admin: "ready" } };
    await time.advance(500);
    expect(hc.status("s1")?.state).toBe("up");
    reply = { ...up("L7OK", "maint"), agent: { admin: "maint" } };
    await time.advance(500);
    expect(changes.map((c) => c.to)).toEqual(["drain", "down", "up", "maint"]);
    expect(changes[0]).toMatchObject({ code: "AGENT", reason: "agent: drain" });
  });

  it("passive errors apply on-error: mark-down takes the server down and forces fastinter", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0, tick: 10 }); // checks start on 10 ms ticks
    const s = scripted(time);
    const downs: ChangeEvent[] = [];
    hc.on("change", (e) => e.to === "down" && downs.push(e));
    hc.add({
      id: "s1",
      check: s.check,
      inter: 10_000,
      fastinter: 200,
      initState: "fully-up",
      passive: { observe: "layer7", errorLimit: 3, onError: "mark-down" },
    });
    hc.start();
    await time.advance(10);
    hc.observe("s1", { ok: false, status: 503 });
    hc.observe("s1", { ok: false, status: 501 }); // not an error under layer7: resets
    hc.observe("s1", { ok: false, status: 503 });
    hc.observe("s1", { ok: false, code: "ECONNREFUSED" });
    expect(downs).toHaveLength(0);
    hc.observe("s1", { ok: false, code: "timeout" });
    expect(downs).toHaveLength(1);
    expect(downs[0]).toMatchObject({
      code: "PASSIVE",
      reason: "3 consecutive layer7 errors, on-error mark-down",
    });
    await time.advance(200);
    expect(s.state.starts.at(-1)).toBe(210); // fastinter, not 10 s
  });

  it("a passing active check clears the passive error count (as HAProxy does)", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0 });
    hc.add({
      id: "s1",
      check: async () => up("L7OK", "ok"),
      inter: 300,
      initState: "fully-up",
      passive: { observe: "layer7", errorLimit: 3, onError: "mark-down" },
    });
    hc.start();
    await time.advance(10);
    hc.observe("s1", { ok: false, status: 503 });
    hc.observe("s1", { ok: false, status: 503 });
    await time.advance(300); // a check passes in between
    hc.observe("s1", { ok: false, status: 503 });
    expect(hc.status("s1")?.state).toBe("up");
    hc.observe("s1", { ok: false, status: 503 });
    hc.observe("s1", { ok: false, status: 503 });
    expect(hc.status("s1")?.state).toBe("down");
    await hc.stop();
  });

  it("rejects bad config at construction with a typed error", () => {
    const hc = new HealthChecker();
    const check = async () => up("L4OK", "ok");
    expect(() => hc.add({ id: "a", check, rise: 0 })).toThrow(
      "healthcheck: rise 0 must be an integer 1..1000 (a server needs at least one success to come up)",
    );
    expect(() => hc.add({ id: "a", check, inter: 1000, timeout: 2000 })).toThrow(
      "healthcheck: timeout 2000 exceeds inter 1000: a check must end before the next one is due (lower timeout or raise inter)",
    );
    expect(() => new HealthChecker({ spread: 80 })).toThrow(
      "healthcheck: spread 80 must be a number 0..50 (a percentage, HAProxy spread-checks)",
    );
    hc.add({ id: "a", check });
    expect(() => hc.add({ id: "a", check })).toThrow(
      'healthcheck: id "a" is already added (remove it first)',
    );
  });
});
