/**
 * Cross-package: a health check drives VRRP priority with keepalived track_script semantics. Two @lbkit/vrrp
 * instances on the UDP loopback transport (127.0.0.0/8, VRRPv3, 100 ms adverts): A (priority 150) tracks an
 * HTTP backend with weight -60. When the backend answers 500, A's priority drops to 90 and B (100) takes
 * over; when it recovers, A preempts back. A weight-0 track puts the instance in FAULT.
 */
import http from "node:http";
import type net from "node:net";
import { HealthChecker, httpCheck, PriorityTracker } from "@lbkit/healthcheck";
import { MemoryVipMover, type Tracker, UdpTransport, VrrpInstance } from "@lbkit/vrrp";
import { afterEach, describe, expect, it } from "vitest";

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

let port = 30000 + (process.pid % 20000);

async function backend() {
  const state = { status: 200 };
  const srv = http.createServer((_req, res) => {
    res.statusCode = state.status;
    res.end(state.status === 200 ? "ok" : "broken");
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  cleanup.push(() => new Promise((r) => srv.close(r)));
  return { state, port: (srv.address() as net.AddressInfo).port };
}

const once = (inst: VrrpInstance, to: "master" | "backup" | "fault", ms = 4000) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${inst.id}: no change to ${to} within ${ms} ms`)), ms);
    const on = (c: { to: string }) => {
      if (c.to !== to) return;
      inst.off("change", on);
      clearTimeout(t);
      resolve();
    };
    inst.on("change", on);
  });

async function node(id: string, address: string, priority: number, vrrpPort: number, tracks: Tracker[]) {
  const transport = new UdpTransport({ address, peers: ["127.0.0.31", "127.0.0.32"], port: vrrpPort });
  await transport.start();
  cleanup.push(() => transport.stop());
  const inst = new VrrpInstance({
    id,
    vrid: 51,
    version: 3,
    advertInterval: 100,
    priority,
    virtualAddresses: ["198.18.0.100/24"],
    transport,
    vipMover: new MemoryVipMover(),
    garp: false,
    tracks,
  });
  cleanup.push(() => inst.stop());
  return inst;
}

describe("healthcheck → @lbkit/vrrp priority (track_script weights)", () => {
  it("a failing check lowers the priority by its weight and the peer takes over; recovery fails back", async () => {
    const be = await backend();
    const hc = new HealthChecker();
    hc.add({
      id: "chk_app",
      check: httpCheck({ host: "127.0.0.1", port: be.port, path: "/health" }),
      inter: 100,
      rise: 2,
      fall: 2,
      initState: "fully-up",
    });
    const tracker: Tracker = new PriorityTracker(hc, [{ id: "chk_app", weight: -60 }]); // structural fit, no import
    hc.start();
    cleanup.push(() => hc.stop());

    const vrrpPort = port++;
    const a = await node("A", "127.0.0.31", 150, vrrpPort, [tracker]);
    const b = await node("B", "127.0.0.32", 100, vrrpPort, []);
    const aMaster = once(a, "master");
    a.start();
    b.start();
    await aMaster;
    expect(a.state).toBe("master");

    const bMaster = once(b, "master");
    const aBackup = once(a, "backup");
    be.state.status = 500;
    await Promise.all([bMaster, aBackup]);
    expect(tracker.delta).toBe(-60);
    expect(a.priority).toBe(90);

    const aBack = once(a, "master");
    be.state.status = 200;
    await aBack;
    expect(tracker.delta).toBe(0);
    expect(a.priority).toBe(150);
  });

  it("a weight-0 track that fails puts the instance in FAULT", async () => {
    const be = await backend();
    const hc = new HealthChecker();
    hc.add({
      id: "chk_gw",
      check: httpCheck({ host: "127.0.0.1", port: be.port }),
      inter: 100,
      rise: 1,
      fall: 1,
      initState: "fully-up",
    });
    const tracker = new PriorityTracker(hc, [{ id: "chk_gw", weight: 0 }]);
    hc.start();
    cleanup.push(() => hc.stop());
    const a = await node("A0", "127.0.0.31", 150, port++, [tracker]);
    const master = once(a, "master");
    a.start();
    await master;
    const fault = once(a, "fault");
    be.state.status = 503;
    await fault;
    expect(tracker.fault).toBe(true);
  });
});
