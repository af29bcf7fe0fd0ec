// An lbkit balancer node for test/bgp-* and bench/bgp: @lbkit/proxy on VIP:80 (L7) balancing over the web servers
// with Maglev keyed on the flow (the client's X-Flow header, else its address), TCP health checks every 200 ms,
// and a BgpSpeaker (built dist) announcing the VIP through this namespace's gobgpd with BFD towards the router.
// The speaker tracks the proxy backend's health: in fault while every web server is down. Each response carries
// X-Balancer: <this node's id>; the web servers answer their own id.
// Usage: node node.mjs '<json>'. SIGUSR1 = planned drain (tell the peers, withdraw, wait for quiet, stop the proxy
// gracefully, stop the speaker, exit 0). One JSON line per event on stdout.
// Flow handoff (with `peers`, the other balancers' addresses): ECMP keeps no flow state, so a connection whose SYN
// reached a draining node just before the router moved its bucket sends its next packets to another balancer,
// whose kernel would reset it. A draining node first tells its peers (a UDP datagram "drain <address>" to each on
// port 7946); each then hands such stray packets (TCP to the VIP, not SYN, unseen by its conntrack) back to the
// drainer for 5 s with @lbkit/kernel-lb's FlowHandoff, while the drainer still holds the VIP and serves.

import dgram from "node:dgram";
import { EventEmitter } from "node:events";
import { maglev } from "../../packages/balancer/dist/index.js";
import { BgpSpeaker } from "../../packages/bgp/dist/index.js";
import { FlowHandoff } from "../../packages/kernel-lb/dist/index.js";
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
// the handoff first: its start() makes the kernel track flows, so every flow this node serves is known as its own
let draining = false;
const HANDOFF_PORT = 7946;
const peers = o.peers ?? [];
let handoff;
let control;
if (peers.length > 0) {
  handoff = new FlowHandoff({ vips: [o.vip], ports: [80], device: "eth0", graceMs: 5000 });
  handoff.on("forward", (e) => log({ event: "handoff", peer: e.peer ?? null }));
  handoff.on("error", (e) => log({ event: "error", code: e.code, message: e.message }));
  await handoff.start();
  control = dgram.createSocket("udp4");
  control.on("error", (e) => log({ event: "error", code: e.code, message: e.message }));
  control.on("message", (m, from) => {
    const [word, addr] = m.toString().split(" ");
    // only a configured peer, naming itself; a node that drains forwards nothing (two drainers never loop).
    // Unauthenticated: for a trusted segment only (a forged notice sends a node's stray packets elsewhere)
    if (word !== "drain" || addr !== from.address || !peers.includes(addr) || draining) return;
    if (handoff.peer !== addr)
      handoff.forward(addr).catch((e) => log({ event: "error", code: e.code, message: e.message }));
  });
  await new Promise((r) => control.bind(HANDOFF_PORT, o.address, r));
}
/** Tells every peer this node drains; each answers by forwarding (logged there); sent twice against a lost datagram. */
async function announceDrain() {
  if (!control) return;
  const msg = Buffer.from(`drain ${o.address}`);
  for (let i = 0; i < 2; i++) {
    for (const p of peers) control.send(msg, HANDOFF_PORT, p, () => {}); // lost: the second round
    await new Promise((r) => setTimeout(r, 50));
  }
}
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
  draining = true;
  await handoff?.cancel();
  await announceDrain();
  const d = await speaker.drain({ activity: () => requests, quiet: o.quiet ?? 1000, timeout: 20_000 });
  log({ event: "quiet", ...d, requests });
  await proxy.stop(); // stops accepting; in-flight requests finish
  await speaker.stop();
  await handoff?.stop();
  control?.close();
  log({ event: "drained" });
  process.exit(0);
});
process.on("SIGTERM", async () => {
  await speaker.stop();
  await proxy.stop();
  await handoff?.stop();
  process.exit(0);
});
