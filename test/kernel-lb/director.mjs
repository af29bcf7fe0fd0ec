// A director node for the kernel-lb suites, run inside its namespace: a Pool per service, TCP health checks bound
// to it, a KernelDirector programming this namespace's nftables. Commands arrive as JSON lines on stdin; events
// leave as JSON lines on stdout.
//   args: --table T --services JSON (array of { id, vip, port, protocol?, scheduler?, masquerade?, quorum?,
//         hysteresis?, sorryServer?, servers: [{ id, address, port?, weight? }] }) [--check] (tcp checks, inter 200)
//   --vrrp JSON: VrrpInstance options on eth0 (the director holds the VIP by VRRP)
//   stdin: {"op":"weight","service":"web","id":"r1","weight":0} | {"op":"state",…,"state":"down"}
//          {"op":"churn","service":"web","count":N} (alternate two weight sets N times, one sync each)
//          {"op":"stop"}

import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Pool } from "@lbkit/balancer";
import { bindPool, HealthChecker, tcpCheck } from "@lbkit/healthcheck";
import { KernelDirector } from "@lbkit/kernel-lb";
import { VrrpInstance } from "@lbkit/vrrp";

const { values } = parseArgs({
  options: {
    table: { type: "string", default: "lbkit" },
    services: { type: "string" },
    check: { type: "boolean" },
    vrrp: { type: "string" },
  },
});
const out = (o) => console.log(JSON.stringify(o));
const specs = JSON.parse(values.services);
const pools = new Map();
const checkers = [];
for (const s of specs) {
  const pool = new Pool({ algorithm: "roundrobin", servers: s.servers });
  pools.set(s.id, pool);
  if (values.check) {
    const hc = new HealthChecker();
    for (const srv of pool.servers)
      hc.add({
        id: srv.id,
        check: tcpCheck({ host: srv.address, port: srv.port ?? s.port }),
        inter: 200,
        rise: 1,
        fall: 1,
      });
    bindPool(hc, pool);
    hc.on("change", (e) => out({ event: "health", service: s.id, id: e.id, to: e.to }));
    checkers.push(hc);
  }
}
const director = new KernelDirector({
  table: values.table,
  services: specs.map(({ servers, ...s }) => ({ ...s, pool: pools.get(s.id) })),
  watch: checkers,
});
director.on("sync", (e) => out({ event: "sync", ...e }));
director.on("change", (e) => out({ event: "quorum", ...e }));
director.on("error", (e) => out({ event: "error", message: e.message }));
await director.start();
for (const hc of checkers) hc.start();
let vrrp;
if (values.vrrp) {
  vrrp = new VrrpInstance({ interface: "eth0", ...JSON.parse(values.vrrp) });
  vrrp.on("change", (c) => out({ event: "vrrp", from: c.from, to: c.to, reason: c.reason }));
  vrrp.on("error", (e) => out({ event: "error", message: e.message }));
  await vrrp.start();
}
out({ event: "ready" });

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line);
  const pool = pools.get(cmd.service);
  if (cmd.op === "weight") pool.setWeight(cmd.id, cmd.weight);
  if (cmd.op === "state") pool.setState(cmd.id, cmd.state);
  if (cmd.op === "weight" || cmd.op === "state") {
    await director.sync();
    out({ event: "done", op: cmd.op });
  }
  if (cmd.op === "churn") {
    const t0 = performance.now();
    const ids = pool.servers.map((s) => s.id);
    for (let i = 0; i < cmd.count; i++) {
      pool.setWeight(ids[i % ids.length], 1 + (i % 5));
      await director.sync();
    }
    out({ event: "churned", count: cmd.count, ms: performance.now() - t0 });
  }
  if (cmd.op === "stop") break;
}
await vrrp?.stop();

for (const hc of checkers) await hc.stop();
const t0 = performance.now();
await director.stop();
out({ event: "stopped", ms: performance.now() - t0 });
