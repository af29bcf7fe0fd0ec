// An lbkit balancer node for test/bgp-* and bench/bgp: @lbkit/proxy on VIP:80 (L7) balancing over the web servers
// with Maglev keyed on the flow (the client's X-Flow header, else its address), TCP health checks every 200 ms,
// and a BgpSpeaker (built dist) announcing the VIP through this namespace's gobgpd with BFD towards the router.
// The speaker tracks the proxy backend's health: in fault while every web server is down. Each response carries
// X-Balancer: <this node's id>; the web servers answer their own id.
// Usage: node node.mjs '<json>'. SIGUSR1 = planned drain (withdraw, wait for quiet, stop the proxy gracefully,
// stop the speaker, exit 0). One JSON line per event on stdout.

import { EventEmitter } from "node:events";
import { maglev } from "../../packages/balancer/dist/index.js";
import { BgpSpeaker } from "../../packages/bgp/dist/index.js";
import { ReverseProxy } from "../../packages/proxy/dist/index.js";

const o = JSON.parse(process.argv[2] ?? "{}");
const log = (e) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...e })}\n`);

const flowKey = (ctx) => ctx.headers?.get?.("x-flow") ?? ctx.source;
const proxy = new ReverseProxy({
  frontends: [
    {
      id: "vip",
      bind: `${o.vip}:80`,
      mode: "http",
      defaultBackend: "web",
      httpResponse: [{ setHeader: "X-Balancer", value: o.id }],
    },
  ],
  backends: [
    {
      id: "web",
      balance: maglev({ key: flowKey }),
      healthCheck: { inter: 200, rise: 1, fall: 2, timeout: 200 },
      servers: o.webs.map((w) => ({ ...w, check: true })),
    },
  ],
  grace: 5000,
});
let requests = 0;
proxy.on("request", () => requests++);
proxy.on("error", (e) => log({ event: "error", code: e.code, message: e.message }));

// the proxy backend's health as a tracker: fault while every web server is down
const down = new Set();
const track = new EventEmitter();
track.fault = false;
proxy.on("change", (e) => {
  if (e.to === "down") down.add(e.id);
  else down.delete(e.id);
  const fault = down.size === o.webs.length;
  if (fault === track.fault) return;
  track.fault = fault;
  log({ event: "track", fault });
  track.emit("change");
});
await proxy.start();

const speaker = new BgpSpeaker({
  id: o.id,
  gobgp: { address: "127.0.0.1:50051" },
  localAs: o.localAs,
  routerId: o.address,
  neighbors: [{ address: o.router, peerAs: o.routerAs, holdTime: o.holdTime ?? 9 }],
  routes: [{ prefix: `${o.vip}/32`, med: o.med, communities: ["65001:100"] }],
  tracks: [track],
  rise: o.rise ?? 0,
  fall: o.fall ?? 300,
  ...(o.bfd ? { bfd: { localAddress: o.address, ...o.bfd } } : {}),
});
speaker.on("change", (e) => log({ event: "change", ...e }));
speaker.on("error", (e) => log({ event: "error", code: e.code, message: e.message }));
await speaker.start();
log({ event: "started" });

process.on("SIGUSR1", async () => {
  const d = await speaker.drain({ activity: () => requests, quiet: o.quiet ?? 1000, timeout: 20_000 });
  log({ event: "quiet", ...d, requests });
  await proxy.stop(); // stops accepting; in-flight requests finish
  await speaker.stop();
  log({ event: "drained" });
  process.exit(0);
});
process.on("SIGTERM", async () => {
  await speaker.stop();
  await proxy.stop();
  process.exit(0);
});
