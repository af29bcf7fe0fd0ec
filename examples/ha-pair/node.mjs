// One load-balancer node of the ha-pair: @lbkit/proxy (the guide's haproxy.cfg) + @lbkit/vrrp (its
// keepalived.conf), the VRRP priority tracking this node's own proxy (the guide's checkHaproxy.sh, weight 2).
// Prints one JSON line per event on stdout; reads "handover" / "resume" on stdin.
//   node node.mjs --name lb1 --priority 104 --vip 198.18.0.200/24 --interface eth0 \
//     --servers web1=198.18.0.21:80,web2=198.18.0.22:8080,web3=198.18.0.23:8080
//   (without root) --udp 127.0.0.11 --peers 127.0.0.11,127.0.0.12 --bind 127.0.0.11:18080 --stats 127.0.0.11:18404
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { HealthChecker, httpCheck, PriorityTracker, tcpCheck } from "@lbkit/healthcheck";
import { ReverseProxy } from "@lbkit/proxy";
import { MemoryVipMover, NetlinkVipMover, UdpTransport, VrrpInstance } from "@lbkit/vrrp";

const { values: o } = parseArgs({
  options: {
    name: { type: "string", default: "lb" },
    priority: { type: "string", default: "100" },
    vip: { type: "string" },
    interface: { type: "string" },
    udp: { type: "string" },
    peers: { type: "string", default: "" },
    servers: { type: "string" },
    bind: { type: "string", default: ":80" },
    stats: { type: "string", default: ":8404" },
    "track-weight": { type: "string", default: "2" },
  },
});
const say = (event, fields = {}) => {
  if (!process.stdout.destroyed)
    console.log(JSON.stringify({ node: o.name, event, t: Date.now(), ...fields }));
};
process.stdout.on("error", () => shutdown()); // EPIPE: whoever read us is gone

// ── haproxy.cfg: frontend www / backend web ──
const servers = o.servers.split(",").map((spec) => {
  const [id, hostPort] = spec.split("=");
  const i = hostPort.lastIndexOf(":");
  // server web1 198.18.0.21:80 weight 5 check inter 2000 rise 2 fall 3
  return { id, address: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)), weight: 5, check: true };
});
const proxy = new ReverseProxy({
  frontends: [
    { id: "www", bind: o.bind, mode: "http", defaultBackend: "web", forwardFor: true }, // option forwardfor
  ],
  backends: [
    {
      id: "web",
      balance: "roundrobin",
      // option httpchk HEAD /index.html ; check inter 2000 rise 2 fall 3
      healthCheck: {
        inter: 2000,
        rise: 2,
        fall: 3,
        check: (s) => httpCheck({ host: s.address, port: s.port, method: "HEAD", path: "/index.html" }),
      },
      retries: 2, // retries 2
      redispatch: true, // option redispatch
      timeouts: { connect: 1000 },
      servers,
    },
  ],
});
proxy.on("change", (e) => say("server", { id: e.id, from: e.from, to: e.to, reason: e.reason }));
proxy.on("error", (e) => say("error", { message: e.message }));

// ── stats page (the proxy has no stats page yet: this node serves a small one from the pool's state) ──
const [statsHost, statsPort] = splitHostPort(o.stats);
const stats = createServer((req, res) => {
  if (req.url !== "/web-status") {
    res.statusCode = 404;
    return res.end("see /web-status\n");
  }
  const pool = proxy.backend("web").pool;
  const rows = pool.servers.map(
    (s) =>
      `${s.id.padEnd(6)} ${`${s.address}:${s.port}`.padEnd(20)} ${s.state.padEnd(6)} weight ${s.weight}  in flight ${s.inFlight}`,
  );
  res.setHeader("Content-Type", "text/plain");
  res.end(`${o.name}  VRRP ${vrrp.state} (priority ${vrrp.priority})\n${rows.join("\n")}\n`);
});

// ── keepalived.conf: vrrp_script chk_haproxy (weight 2) + vrrp_instance VI_1 ──
const self = new HealthChecker();
const [bindHost, bindPort] = splitHostPort(o.bind);
self.add({
  id: "proxy",
  check: tcpCheck({ host: bindHost || "127.0.0.1", port: bindPort }),
  inter: 1000,
  timeout: 500,
  rise: 1,
  fall: 2,
});
const tracker = new PriorityTracker(self, [{ id: "proxy", weight: Number(o["track-weight"]) }]);
const udp = o.udp !== undefined;
const transport = udp
  ? new UdpTransport({ address: o.udp, peers: o.peers.split(",").filter(Boolean) })
  : undefined;
// A planned handover loses nothing only if this node keeps answering on the VIP until the peer has taken it (and
// sent its gratuitous ARPs): during a handover the VIP's removal waits for the peer to be master, then a drain.
const netlink = udp ? undefined : new NetlinkVipMover();
let handingOver = false;
let deferred;
const vipMover = netlink && {
  prepare: (ctx) => netlink.prepare(ctx),
  add: (vips, ctx) => {
    deferred = undefined;
    return netlink.add(vips, ctx);
  },
  remove: async (vips, ctx) => {
    if (handingOver) deferred = { vips, ctx };
    else await netlink.remove(vips, ctx);
  },
};
const vrrp = new VrrpInstance({
  id: o.name,
  vrid: 51,
  version: 2,
  advertInterval: 1000, // advert_int 1
  authPassword: "1111", // auth_type PASS
  priority: Number(o.priority),
  virtualAddresses: [o.vip],
  tracks: [tracker],
  ...(udp
    ? { transport, vipMover: new MemoryVipMover(), garp: false }
    : { interface: o.interface, vipMover, garp: { repeat: 3, delay: 1000 } }),
});
vrrp.on("change", (c) =>
  say("state", {
    from: c.from,
    to: c.to === "initialize" ? "stopped" : c.to,
    reason: c.reason,
    priority: c.priority,
  }),
);
vrrp.on("priority", (p) => say("priority", { from: p.from, to: p.to }));
vrrp.on("error", (e) => say("error", { message: e.message }));

await proxy.start();
await new Promise((resolve) => stats.listen(statsPort, statsHost || undefined, resolve));
await self.start();
await transport?.start();
await vrrp.start();
say("started", {
  priority: vrrp.priority,
  mode: udp ? "udp-loopback" : "raw",
  stats: `/web-status on ${o.stats}`,
});

// each server's state as this node's proxy sees it, once a second (the demo's timeline shows the master's view)
const snapshot = setInterval(
  () =>
    say("servers", {
      states: Object.fromEntries(proxy.backend("web").pool.servers.map((x) => [x.id, x.state])),
    }),
  1000,
);
process.stdin.setEncoding("utf8");
process.stdin.on("data", async (chunk) => {
  for (const cmd of chunk.split("\n").map((s) => s.trim())) {
    if (cmd === "handover") {
      // planned maintenance: resign (priority-0 advert), wait for the peer to be master, keep serving what is in flight
      handingOver = true;
      try {
        const { master } = await vrrp.handover({ timeout: 10_000 });
        say("handover", { master });
        await new Promise((r) => setTimeout(r, 1000)); // drain: the peer's GARPs have moved the clients
      } catch (e) {
        say("error", { message: e.message });
      }
      handingOver = false;
      if (deferred)
        await netlink.remove(deferred.vips, deferred.ctx).catch((e) => say("error", { message: e.message }));
      deferred = undefined;
    } else if (cmd === "resume") vrrp.resume();
  }
});

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  handingOver = false;
  clearInterval(snapshot);
  await vrrp.stop(); // priority-0 advert if master, VIP removed
  if (deferred) await netlink.remove(deferred.vips, deferred.ctx).catch(() => {});
  await netlink?.stop();
  await transport?.stop();
  await tracker.stop();
  await self.stop();
  await proxy.stop();
  stats.close();
  say("stopped");
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

function splitHostPort(s) {
  const i = s.lastIndexOf(":");
  return [s.slice(0, i), Number(s.slice(i + 1))];
}
