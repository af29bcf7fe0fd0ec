// An IpvsDirector inside a lab namespace (test/kernel-lb-ipvs.test.ts): programs one NAT service of two real
// servers into this namespace's IPVS, changes a weight, takes a server down, stops; after each step prints
// {"step", "ipvs"} with the namespace's /proc/net/ip_vs, one JSON line each. An error prints {"step":"error"}.
import { readFileSync } from "node:fs";
import { Pool } from "@lbkit/balancer";
import { IpvsDirector } from "@lbkit/kernel-lb";

const [vip, r1, r2] = process.argv.slice(2);
const pool = new Pool({
  servers: [
    { id: "r1", address: r1, weight: 1 },
    { id: "r2", address: r2, weight: 2 },
  ],
});
const director = new IpvsDirector({ services: [{ id: "web", vip, port: 80, scheduler: "wrr", pool }] });
director.on("error", (e) => console.log(JSON.stringify({ step: "error", message: e.message })));
const show = (step) => console.log(JSON.stringify({ step, ipvs: readFileSync("/proc/net/ip_vs", "utf8") }));
try {
  await director.start();
  show("started");
  pool.setWeight("r2", 5);
  await director.sync();
  show("weight");
  pool.setState("r1", "down");
  await director.sync();
  show("down");
  await director.stop();
  show("stopped");
} catch (e) {
  console.log(JSON.stringify({ step: "error", message: e.message }));
  process.exitCode = 1;
}
