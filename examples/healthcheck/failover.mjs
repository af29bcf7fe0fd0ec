#!/usr/bin/env node
// HAProxy `check` + `agent-check` and keepalived `track_script`, rebuilt in code, all on 127.0.0.1:
//
//   backend app
//     server web1 127.0.0.1:<p1> weight 100 check inter 200 fall 3 rise 2 agent-check agent-port <a1>
//     server web2 127.0.0.1:<p2> weight 100 check inter 200 fall 3 rise 2
//   vrrp_script chk_app { weight -20 }          # priority drops by 20 while web1 is down
//
// The script starts two HTTP backends and an agent, then breaks and heals web1 and prints what the
// checker, the pool and the VRRP priority tracker see. It ends by itself after ~4 s.
//
//   npm run setup && node examples/healthcheck/failover.mjs      (setup: pnpm install + build, once)
import http from "node:http";
import net from "node:net";
import { Pool } from "@lbkit/balancer";
import { agentCheck, bindPool, HealthChecker, httpCheck, PriorityTracker } from "@lbkit/healthcheck";
import { cli } from "../cli.mjs";

cli(`
usage: node examples/healthcheck/failover.mjs
HAProxy check + agent-check and keepalived track_script in code, all on 127.0.0.1: two HTTP backends and an
agent; web1 breaks and heals while the checker, the pool and a VRRP priority tracker report. Ends after ~4 s.
  -h, --help   this text`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const listen = (server) => new Promise((r) => server.listen(0, "127.0.0.1", () => r(server.address().port)));

let web1Status = 200;
let agentSays = "up 100%";
const backends = [
  http.createServer((_req, res) => {
    res.statusCode = web1Status;
    res.end(web1Status === 200 ? "web1 ok" : "web1: database unreachable");
  }),
  http.createServer((_req, res) => res.end("web2 ok")),
];
const agent = net.createServer((s) => s.end(`${agentSays}\n`));
const [p1, p2] = await Promise.all(backends.map(listen));
const a1 = await listen(agent);

const pool = new Pool({
  slowStart: 1000,
  servers: [
    { id: "web1", address: "127.0.0.1", port: p1, weight: 100 },
    { id: "web2", address: "127.0.0.1", port: p2, weight: 100 },
  ],
});
const hc = new HealthChecker();
const common = { inter: 200, timeout: 150, fall: 3, rise: 2, initState: "fully-up" };
hc.add({
  id: "web1",
  check: httpCheck({ host: "127.0.0.1", port: p1, path: "/health" }),
  agent: { check: agentCheck({ host: "127.0.0.1", port: a1 }), inter: 200 },
  ...common,
});
hc.add({ id: "web2", check: httpCheck({ host: "127.0.0.1", port: p2, path: "/health" }), ...common });

const t0 = performance.now();
const at = () => `${String(Math.round(performance.now() - t0)).padStart(5)} ms`;
hc.on("change", (e) =>
  console.log(
    `${at()}  ${e.id} ${e.from} → ${e.to}  (${e.reason}${e.excerpt ? `, got "${e.excerpt}"` : ""})`,
  ),
);
const unbind = bindPool(hc, pool); // before the logger below, so the pool has the new weight when it prints
hc.on("weight", (e) =>
  console.log(`${at()}  ${e.id} weight ${e.weightPercent}% → pool weight ${pool.get(e.id)?.weight}`),
);
const vrrp = new PriorityTracker(hc, [{ id: "web1", weight: -20 }]);
vrrp.on("change", (s) => console.log(`${at()}  VRRP priority delta ${s.previous.delta} → ${s.delta}`));
await hc.start();

/** Resolves when `id` goes `to` (or after 5 s, when it did not: the output then shows it). */
const changed = (id, to) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, 5000);
    const on = (e) => {
      if (e.id !== id || e.to !== to) return;
      hc.off("change", on);
      clearTimeout(t);
      resolve();
    };
    hc.on("change", on);
  });

const picks = (n) => {
  const seen = {};
  for (let i = 0; i < n; i++) {
    const r = pool.pick();
    if (r.ok) seen[r.server.id] = (seen[r.server.id] ?? 0) + 1;
  }
  return JSON.stringify(seen);
};

await sleep(500);
console.log(`${at()}  picks: ${picks(100)}`);
console.log(`${at()}  -- web1 starts answering 500`);
web1Status = 500;
await changed("web1", "down"); // three failed checks, 200 ms apart
console.log(`${at()}  picks: ${picks(100)}`);
console.log(`${at()}  -- web1 healthy again`);
web1Status = 200;
await sleep(700);
console.log(`${at()}  picks (slow start ramping web1): ${picks(100)}`);
console.log(`${at()}  -- agent says 50%`);
agentSays = "up 50%";
await sleep(400);
console.log(`${at()}  -- agent says drain`);
agentSays = "drain";
await sleep(400);
console.log(`${at()}  picks: ${picks(100)}`);

await vrrp.stop();
unbind();
await hc.stop();
for (const s of [...backends, agent]) s.close();
console.log(`${at()}  status: ${JSON.stringify(hc.list().map((s) => [s.id, s.state, s.lastResult?.code]))}`);
