// One lbkit load-balancer node: a VRRP instance whose priority tracks the health of the local web backend
// (keepalived: vrrp_instance + track_script weight -60). Prints one JSON line per event on stdout; reads
// "fail" / "recover" on stdin to break and mend its own backend.
//   node node.mjs --name lb1 --priority 150 --vip 198.18.0.200/24 --interface eth0            (raw VRRP, root)
//   node node.mjs --name lb1 --priority 150 --vip 127.0.0.200/8 --udp 127.0.0.11 --peers 127.0.0.12
import { createServer } from "node:http";
import { HealthChecker, httpCheck, PriorityTracker } from "@lbkit/healthcheck";
import { MemoryVipMover, UdpTransport, VrrpInstance } from "@lbkit/vrrp";
import { cli } from "../cli.mjs";

const o = cli(
  `
usage: node examples/failover/node.mjs --vip ADDR/PREFIX (--interface IFACE | --udp ADDR --peers A,B) [options]
One load-balancer node of the failover demo (examples/failover/index.mjs starts two): a VRRP instance whose
priority tracks the health of a local web backend (track_script weight -60). One JSON line per event on stdout;
"fail" / "recover" lines on stdin break and mend the backend; SIGTERM or the end of stdin stops it.
  --name NAME          instance name (default lb)
  --priority N         VRRP priority (default 100)
  --vip ADDR/PREFIX    the virtual address (required)
  --interface IFACE    raw VRRP (IP protocol 112) on IFACE, VIP via netlink, GARP: needs root, use a namespace
  --udp ADDR           the non-standard UDP loopback transport, bound to ADDR…
  --peers A,B          …sending to these addresses
  --backend-port PORT  the local web backend's port (default 8080)
  -h, --help           this text`,
  {
    name: { type: "string", default: "lb" },
    priority: { type: "string", default: "100" },
    vip: { type: "string" },
    interface: { type: "string" },
    udp: { type: "string" },
    peers: { type: "string", default: "" },
    "backend-port": { type: "string", default: "8080" },
  },
);
const say = (event, fields = {}) =>
  console.log(JSON.stringify({ node: o.name, event, t: Date.now(), ...fields }));

// the web backend this node fronts: /health answers 200 until told to fail
let healthy = true;
const backend = createServer((req, res) => {
  res.statusCode = req.url === "/health" && !healthy ? 503 : 200;
  res.end(healthy ? "ok\n" : "broken\n");
});
const backendPort = Number(o["backend-port"]);
await new Promise((resolve) => backend.listen(backendPort, o.udp ?? "127.0.0.1", resolve));

// option httpchk GET /health; inter 200ms rise 2 fall 2
const hc = new HealthChecker();
hc.add({
  id: "web",
  check: httpCheck({ host: o.udp ?? "127.0.0.1", port: backendPort, path: "/health" }),
  inter: 200,
  timeout: 150,
  rise: 2,
  fall: 2,
});
hc.on("change", (e) => say("check", { to: e.to, reason: e.reason }));
const tracker = new PriorityTracker(hc, [{ id: "web", weight: -60 }]);

const udp = o.udp !== undefined;
const transport = udp
  ? new UdpTransport({ address: o.udp, peers: o.peers.split(",").filter(Boolean) })
  : undefined;
await transport?.start();
const vrrp = new VrrpInstance({
  id: o.name,
  vrid: 51,
  version: 3,
  advertInterval: 200,
  priority: Number(o.priority),
  virtualAddresses: [o.vip],
  tracks: [tracker],
  ...(udp
    ? {
        transport,
        vipMover: new MemoryVipMover(),
        garp: false,
      }
    : { interface: o.interface, garp: { repeat: 3, delay: 1000 } }),
});
vrrp.on("change", (c) =>
  c.to === "initialize"
    ? say("state", { from: c.from, to: "stopped", reason: c.reason, priority: 0 })
    : say("state", { from: c.from, to: c.to, reason: c.reason, priority: c.priority }),
);
vrrp.on("priority", (p) => say("priority", { from: p.from, to: p.to }));
vrrp.on("error", (e) => say("error", { message: e.message }));

await hc.start();
await vrrp.start();
say("started", { priority: vrrp.priority, mode: udp ? "udp-loopback" : "raw" });

process.stdin.setEncoding("utf8");
process.stdin.on("data", (line) => {
  for (const cmd of line.split("\n").filter(Boolean)) {
    healthy = cmd.trim() !== "fail";
    say("backend", { healthy });
  }
});

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  await vrrp.stop(); // priority-0 advert if master, VIP removed
  await transport?.stop();
  await hc.stop();
  await tracker.stop();
  backend.close();
  say("stopped");
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
process.stdin.on("end", shutdown);
