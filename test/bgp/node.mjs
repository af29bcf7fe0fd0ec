// An lbkit balancer node for test/bgp-*: a BgpSpeaker (built dist) announcing the VIP through the gobgpd of this
// namespace, with BFD towards the router, and a minimal HTTP balancer on VIP:80 standing in for @lbkit/proxy
// (it landed on main only as this suite was finished; moving the suite onto it is the next step): it picks a web server with Maglev on the flow (client address:port) and answers
// {"balancer","server"}. The speaker tracks the web servers: in fault while none answers a TCP connect.
// Usage: node node.mjs '<json>'. SIGUSR1 = planned drain (withdraw, wait for quiet, close, stop, exit 0).
// One JSON line per event on stdout.

import { EventEmitter } from "node:events";
import http from "node:http";
import net from "node:net";
import { maglev, Pool } from "../../packages/balancer/dist/index.js";
import { BgpSpeaker } from "../../packages/bgp/dist/index.js";

const o = JSON.parse(process.argv[2] ?? "{}");
const log = (e) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...e })}\n`);

const pool = new Pool({ algorithm: maglev(), servers: o.webs });
let accepted = 0;
const server = http.createServer((req, res) => {
  const flow = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
  const r = pool.pick({ key: flow });
  if (!r.ok) {
    res.writeHead(503).end();
    return;
  }
  const up = http.get({ host: r.server.address, port: r.server.port, path: req.url, agent: false }, (ur) => {
    ur.resume();
    ur.on("end", () => res.end(JSON.stringify({ balancer: o.id, server: r.server.id, flow })));
  });
  up.on("error", () => res.writeHead(502).end());
});
server.on("connection", () => accepted++);
server.keepAliveTimeout = 2000;
await new Promise((r) => server.listen(80, o.vip, r));

// fault while no web server accepts a TCP connection (checked every 100 ms)
const track = new EventEmitter();
track.fault = false;
const probe = (w) =>
  new Promise((resolve) => {
    const s = net.connect({ host: w.address, port: w.port, timeout: 300 });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
    s.once("timeout", () => {
      s.destroy();
      resolve(false);
    });
  });
const checker = setInterval(async () => {
  const fault = !(await Promise.all(o.webs.map(probe))).some(Boolean);
  if (fault !== track.fault) {
    track.fault = fault;
    log({ event: "track", fault });
    track.emit("change");
  }
}, 100);

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
  const d = await speaker.drain({ activity: () => accepted, quiet: o.quiet ?? 1000, timeout: 20_000 });
  log({ event: "quiet", ...d, accepted });
  await new Promise((r) => server.close(r)); // in-flight requests finish; keep-alive sockets close when idle
  await speaker.stop();
  clearInterval(checker);
  log({ event: "drained" });
  process.exit(0);
});
process.on("SIGTERM", async () => {
  await speaker.stop();
  process.exit(0);
});
