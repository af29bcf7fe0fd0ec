import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { HealthChecker } from "../health-checker.js";
import { type CheckResult, up } from "../result.js";
import { bindPool, type PoolLike, weightFor } from "./pool.js";

/** A minimal pool implementing the structural interface, as @lbkit/balancer's Pool does. */
class FakePool implements PoolLike {
  readonly servers = new Map<string, { id: string; weight: number; initialWeight: number; state: string }>();
  readonly calls: string[] = [];
  add(id: string, weight: number) {
    this.servers.set(id, { id, weight, initialWeight: weight, state: "up" });
  }
  get(id: string) {
    return this.servers.get(id);
  }
  setState(id: string, state: "up" | "down" | "drain" | "maint") {
    this.servers.get(id)!.state = state;
    this.calls.push(`${id}:${state}`);
  }
  setWeight(id: string, weight: number) {
    if (!Number.isInteger(weight) || weight < 0 || weight > 256) throw new Error(`bad weight ${weight}`);
    this.servers.get(id)!.weight = weight;
    this.calls.push(`${id}:w${weight}`);
  }
  setMaxConn(id: string, maxConn: number) {
    this.calls.push(`${id}:maxconn${maxConn}`);
  }
}

describe("bindPool", () => {
  it("NN% is relative to the initial weight, rounded and clamped to 0..256", () => {
    expect(weightFor(100, { weightPercent: 50 })).toBe(50);
    expect(weightFor(3, { weightPercent: 50 })).toBe(2);
    expect(weightFor(200, { weightPercent: 300 })).toBe(256);
    expect(weightFor(10, { weight: -4 })).toBe(0);
    expect(weightFor(10, {})).toBeUndefined();
  });

  it("an agent answering 50% halves the server's weight; drain/ready/down map to states", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0 });
    const pool = new FakePool();
    pool.add("web1", 100);
    pool.add("web2", 10);
    let reply: CheckResult = { ...up("L7OK", "50%"), agent: { weightPercent: 50 }, weightPercent: 50 };
    hc.add({
      id: "web1",
      check: async () => up("L4OK", "connected"),
      inter: 1000,
      initState: "fully-up",
      agent: { check: async () => reply, inter: 1000 },
    });
    const unbind = bindPool(hc, pool);
    expect(pool.calls).toEqual(["web1:up"]); // initial sync; web2 is not checked
    hc.start();
    await time.advance(10);
    expect(pool.get("web1")?.weight).toBe(50);
    reply = { ...up("L7OK", "drain"), agent: { admin: "drain" } };
    await time.advance(1000);
    expect(pool.get("web1")?.state).toBe("drain");
    reply = { ...up("L7OK", "ready 100%"), agent: { admin: "ready", weightPercent: 100 } };
    await time.advance(1000);
    expect(pool.get("web1")).toMatchObject({ state: "up", weight: 100 });
    unbind();
    reply = { ...up("L7OK", "maint"), agent: { admin: "maint" } };
    await time.advance(1000);
    expect(pool.get("web1")?.state).toBe("up");
    await hc.stop();
  });

  it("an agent's maxconn:N reaches a pool that has setMaxConn, once per change", async () => {
    const time = new FakeTime();
    const hc = new HealthChecker({ time, random: () => 0 });
    const pool = new FakePool();
    pool.add("web1", 100);
    let reply: CheckResult = { ...up("L7OK", "maxconn:30"), agent: { maxConn: 30 } };
    hc.add({
      id: "web1",
      check: async () => up("L4OK", "connected"),
      inter: 1000,
      initState: "fully-up",
      agent: { check: async () => reply, inter: 1000 },
    });
    bindPool(hc, pool);
    hc.start();
    await time.advance(10);
    await time.advance(1000);
    reply = { ...up("L7OK", "maxconn:0"), agent: { maxConn: 0 } };
    await time.advance(1000);
    expect(pool.calls.filter((c) => c.includes("maxconn"))).toEqual(["web1:maxconn30", "web1:maxconn0"]);
    expect(hc.list()[0]?.maxConn).toBe(0);
    await hc.stop();
  });
});
