#!/usr/bin/env node
// Announce a VIP to a router over BGP through a gobgpd running beside this process, with BFD, while a TCP port
// on a backend answers (withdrawn otherwise, with hysteresis). SIGUSR1 drains (withdraw, wait for new connections
// to stop, exit); SIGINT/SIGTERM stop (gobgpd sends a Cease: the router drops the route at once).
// Run it only where a BGP daemon is allowed: on a balancer host, or inside a network namespace you own, e.g.:
//
//   ip netns exec lb1 gobgpd --api-hosts 127.0.0.1:50051 --pprof-disable &
//   ip netns exec lb1 node examples/bgp/announce.mjs --router 198.18.0.10 --router-as 65000 \
//       --local-as 65001 --router-id 198.18.0.11 --vip 198.18.1.1 --backend 198.18.0.14:8080
//
// The router side (FRR) is in packages/bgp/README.md. One JSON line per event on stdout.
import { EventEmitter } from "node:events";
import net from "node:net";
import { BgpSpeaker } from "@lbkit/bgp";
import { cli } from "../cli.mjs";

const v = cli(
  `
usage: node examples/bgp/announce.mjs --router ADDR --router-as N --local-as N --router-id ADDR --vip PREFIX [options]
Announce VIPs to a router over BGP through a gobgpd beside this process (with BFD) while --backend answers;
withdrawn otherwise, with hysteresis. SIGUSR1 drains; SIGINT/SIGTERM stop. Run it only on a balancer host or
inside a network namespace you own.
  --gobgp HOST:PORT     gobgpd's API (default 127.0.0.1:50051)
  --router ADDR         the BGP neighbour
  --router-as N         its AS
  --local-as N          this node's AS
  --router-id ADDR      this node's router id (next hop of the routes)
  --vip PREFIX          a VIP to announce (repeat for more)
  --med N               MED of the routes
  --backend HOST:PORT   the TCP port whose answer keeps the routes announced
  --bfd-interval MS     BFD transmit/receive interval (default 100)
  -h, --help            this text`,
  {
    gobgp: { type: "string", default: "127.0.0.1:50051" },
    router: { type: "string" },
    "router-as": { type: "string" },
    "local-as": { type: "string" },
    "router-id": { type: "string" },
    vip: { type: "string", multiple: true },
    med: { type: "string" },
    backend: { type: "string" },
    "bfd-interval": { type: "string", default: "100" },
  },
);
const log = (e) => process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), ...e })}\n`);

// the tracker: in fault while the backend refuses TCP (any object with `fault` and a "change" event works)
const backend = new EventEmitter();
backend.fault = false;
if (v.backend) {
  const [host, port] = [
    v.backend.slice(0, v.backend.lastIndexOf(":")),
    Number(v.backend.slice(v.backend.lastIndexOf(":") + 1)),
  ];
  setInterval(() => {
    const s = net.connect({ host, port, timeout: 500 });
    const done = (ok) => {
      s.destroy();
      if (backend.fault === ok) {
        backend.fault = !ok;
        backend.emit("change");
      }
    };
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
    s.once("timeout", () => done(false));
  }, 500).unref();
}

const interval = Number(v["bfd-interval"]);
const speaker = new BgpSpeaker({
  gobgp: { address: v.gobgp },
  localAs: Number(v["local-as"]),
  routerId: v["router-id"],
  neighbors: [{ address: v.router, peerAs: Number(v["router-as"]) }],
  routes: (v.vip ?? []).map((prefix) => ({ prefix, ...(v.med ? { med: Number(v.med) } : {}) })),
  tracks: [backend],
  rise: 2000,
  fall: 1000,
  bfd: { localAddress: v["router-id"], desiredMinTx: interval, requiredMinRx: interval, detectMult: 3 },
});
speaker.on("change", (e) => log({ event: "change", ...e }));
speaker.on("error", (e) => log({ event: "error", code: e.code, message: e.message }));
await speaker.start();
log({ event: "started", vips: v.vip });

process.on("SIGUSR1", async () => {
  const d = await speaker.drain({ quiet: 1000 });
  log({ event: "drained", ...d });
  await speaker.stop();
  process.exit(0);
});
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, async () => {
    await speaker.stop();
    process.exit(0);
  });
