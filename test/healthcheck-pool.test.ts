/**
 * Cross-package: an agent on loopback answering `50%` halves a real @lbkit/balancer Pool server's weight,
 * `drain`/`ready` move its state, and a failing health check takes it down and back up through the binding.
 */
import net from "node:net";
import { Pool } from "@lbkit/balancer";
import type { RequestOutcome } from "@lbkit/core";
import { FakeTime } from "@lbkit/core/testing";
import { agentCheck, bindPool, HealthChecker, tcpCheck } from "@lbkit/healthcheck";
import { afterAll, describe, expect, it } from "vitest";

const servers: net.Server[] = [];
// A check that has its verdict destroys its socket, so a reply still unread makes the kernel send a
// reset: the server side may see ECONNRESET/EPIPE. Anything else is a real failure.
const unexpected: Error[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  expect(unexpected).toEqual([]);
});

async function listen(onConn: (s: net.Socket) => void, port = 0): Promise<net.Server> {
  const srv = net.createServer((s) => {
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "ECONNRESET" && e.code !== "EPIPE") unexpected.push(e);
    });
    onConn(s);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(port, "127.0.0.1", r));
  return srv;
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

const until = async (cond: () => boolean, ms = 3000) => {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
};

describe("healthcheck → @lbkit/balancer Pool", () => {
  it("one request outcome, reported once to the lease and once to passive health", async () => {
    const time = new FakeTime();
    const pool = new Pool({ servers: [{ id: "web1", address: "127.0.0.1", port: 1 }] });
    const hc = new HealthChecker({ time });
    hc.add({
      id: "web1",
      check: async () => ({ status: "up", code: "L4OK", reason: "ok" }),
      inter: 10_000,
      initState: "fully-up",
      passive: { observe: "layer7", errorLimit: 3, onError: "mark-down" },
    });
    const unbind = bindPool(hc, pool);
    await hc.start();
    for (let i = 0; i < 3; i++) {
      const pick = pool.pick();
      expect(pick.ok).toBe(true);
      if (!pick.ok) return;
      const lease = pool.acquire(pick.server);
      const outcome: RequestOutcome = { ok: false, status: 503, latencyMs: 12 };
      lease.release(outcome);
      hc.observe(pick.server.id, outcome);
    }
    expect(hc.status("web1")?.state).toBe("down");
    expect(pool.get("web1")?.state).toBe("down");
    unbind();
    await hc.stop();
  });

  it("agent 50% halves the weight; drain, ready, agent down and a dead backend drive the state", async () => {
    let agentReply = "up 50%\n";
    const agentPort = portOf(await listen((s) => s.end(agentReply)));
    let backend = await listen((s) => s.end());
    const backendPort = portOf(backend);
    const pool = new Pool({
      slowStart: 10_000,
      servers: [
        { id: "web1", address: "127.0.0.1", port: backendPort, weight: 100 },
        { id: "web2", address: "127.0.0.1", port: backendPort, weight: 100 },
      ],
    });
    const hc = new HealthChecker();
    hc.add({
      id: "web1",
      check: tcpCheck({ host: "127.0.0.1", port: backendPort, sequence: [] }),
      inter: 100,
      rise: 2,
      fall: 2,
      initState: "fully-up",
      agent: { check: agentCheck({ host: "127.0.0.1", port: agentPort }), inter: 100 },
    });
    const unbind = bindPool(hc, pool);
    hc.start();
    try {
      expect(await until(() => pool.get("web1")?.weight === 50)).toBe(true);
      expect(pool.get("web1")?.initialWeight).toBe(100);
      expect(pool.get("web2")?.weight).toBe(100);

      // HAProxy agent maxconn:N sets the server's connection limit in the pool
      agentReply = "up 50% maxconn:1\n";
      expect(await until(() => pool.get("web1")?.maxConn === 1)).toBe(true);
      pool.acquire("web1");
      for (let i = 0; i < 5; i++) {
        const r = pool.pick();
        expect(r.ok && r.server.id).toBe("web2"); // web1 is full
      }
      agentReply = "up 50% maxconn:0\n";
      expect(await until(() => pool.get("web1")?.maxConn === 0)).toBe(true);

      agentReply = "drain\n";
      expect(await until(() => pool.get("web1")?.state === "drain")).toBe(true);
      agentReply = "ready 100%\n";
      expect(await until(() => pool.get("web1")?.state === "up" && pool.get("web1")?.weight === 100)).toBe(
        true,
      );

      agentReply = "down #backend crashed\n";
      expect(await until(() => pool.get("web1")?.state === "down")).toBe(true);
      // while down the pool never picks web1
      for (let i = 0; i < 20; i++) {
        const r = pool.pick();
        expect(r.ok && r.server.id).toBe("web2");
      }
      agentReply = "up\n";
      expect(await until(() => pool.get("web1")?.state === "up")).toBe(true);

      // the health check itself: the backend stops listening → down after fall; back → up after rise,
      // and the pool's own slow start ramps the weight (the binding only set the state)
      await new Promise((r) => backend.close(r));
      expect(await until(() => pool.get("web1")?.state === "down")).toBe(true);
      expect(hc.status("web1")?.lastResult?.code).toBe("L4CON");
      backend = await listen((s) => s.end(), backendPort);
      expect(await until(() => pool.get("web1")?.state === "up")).toBe(true);
      const w = pool.get("web1")!;
      expect(w.weight).toBe(100);
      expect(w.effectiveWeight).toBeLessThan(100);
    } finally {
      unbind();
      await hc.stop();
    }
  });
});
