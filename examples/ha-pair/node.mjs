// One load-balancer node of the ha-pair: @lbkit/proxy (the guide's haproxy.cfg) + @lbkit/vrrp (its
// keepalived.conf), the VRRP priority tracking this node's own proxy (the guide's checkHaproxy.sh, weight 2).
// Prints one JSON line per event on stdout; reads "handover" / "resume" / "kill-proxy" on stdin. SIGTERM stops it
// gracefully (a master hands over first), SIGINT at once (priority-0 advert, VIP removed).
//   node node.mjs --name lb1 --priority 104 --vip 198.18.0.200/24 --interface eth0 \
//     --servers web1=198.18.0.21:80,web2=198.18.0.22:8080,web3=198.18.0.23:8080
//   (without root) --udp 127.0.0.11 --peers 127.0.0.11,127.0.0.12 --bind 127.0.0.11:18080 --stats 127.0.0.11:18404
import { HealthChecker, httpCheck, PriorityTracker, tcpCheck } from "@lbkit/healthcheck";
import { FlowHandoff } from "@lbkit/kernel-lb";
import { ReverseProxy } from "@lbkit/proxy";
import { MemoryVipMover, NetlinkVipMover, UdpTransport, VrrpInstance } from "@lbkit/vrrp";
import { cli } from "../cli.mjs";

const o = cli(
  `
usage: node examples/ha-pair/node.mjs --vip ADDR/PREFIX --servers ID=HOST:PORT,… (--interface IFACE | --udp ADDR --peers A,B) [options]
One load-balancer node of the ha-pair: @lbkit/proxy (the guide's haproxy.cfg) + @lbkit/vrrp (its keepalived.conf),
VRRP priority tracking this node's own proxy. JSON events on stdout; "handover" / "resume" / "kill-proxy" on
stdin; SIGTERM stops gracefully, SIGINT at once. Started by examples/ha-pair/index.mjs.
  --name NAME           instance name (default lb)
  --priority N          VRRP priority (default 100)
  --vip ADDR/PREFIX     the virtual address
  --interface IFACE     raw VRRP on IFACE (root, in a namespace)
  --udp ADDR            the UDP loopback transport, bound to ADDR…
  --peers A,B           …sending to these
  --servers LIST        web servers, id=host:port comma-separated
  --bind HOST:PORT      the proxy's listener (default :80)
  --stats HOST:PORT     the stats page listener (default :8404)
  --track-weight N      weight of the tracked proxy check (default 2)
  -h, --help            this text`,
  {
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
);
const say = (event, fields = {}) => {
  if (!process.stdout.destroyed)
    console.log(JSON.stringify({ node: o.name, event, t: Date.now(), ...fields }));
};
process.stdout.on("error", () => shutdown(false)); // EPIPE: whoever read us is gone

// ── haproxy.cfg: frontend www / backend web ──
const servers = o.servers.split(",").map((spec) => {
  const [id, hostPort] = spec.split("=");
  const i = hostPort.lastIndexOf(":");
  // server web1 198.18.0.21:80 weight 5 check inter 2000 rise 2 fall 3
  return { id, address: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)), weight: 5, check: true };
});
const proxy = new ReverseProxy({
  frontends: [
    {
      id: "www",
      bind: o.bind,
      mode: "http",
      defaultBackend: "web",
      forwardFor: true, // option forwardfor
      httpResponse: [{ setHeader: "X-Lb", value: o.name }], // which node served (the demo's timeline)
    },
    // listen stats / bind *:8404 / stats enable / stats uri /web-status (HAProxy's page; ;csv and ;json too)
    { id: "stats", bind: o.stats, mode: "http", stats: { uri: "/web-status", refresh: 2 } },
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

// ── keepalived.conf: vrrp_script chk_haproxy (weight 2) + vrrp_instance VI_1 ──
const self = new HealthChecker();
const [bindHost, bindPort] = splitHostPort(o.bind);
self.add({
  id: "proxy",
  check: tcpCheck({ host: bindHost || "127.0.0.1", port: bindPort }),
  inter: 2000, // vrrp_script interval 2 (keepalived's default rise 1, fall 1)
  timeout: 1000,
  rise: 1,
  fall: 1,
  // the proxy runs in this process: when it stops, the node reports it at once instead of waiting for the next
  // check (keepalived can only poll haproxy); the TCP check still catches a listener that hangs
  passive: { observe: "layer4", errorLimit: 1, onError: "mark-down" },
});
const tracker = new PriorityTracker(self, [{ id: "proxy", weight: Number(o["track-weight"]) }]);
const udp = o.udp !== undefined;
const transport = udp
  ? new UdpTransport({ address: o.udp, peers: o.peers.split(",").filter(Boolean) })
  : undefined;
// Losing the VIP loses nothing only if this node keeps answering on it until the peer has taken it and its
// gratuitous ARPs have moved the clients: while running, the VIP's removal waits DRAIN_MS (a preempting peer)
// or, during a planned handover, until the peer is master and then DRAIN_MS. On stop it goes at once.
const DRAIN_MS = 1000;
const netlink = udp ? undefined : new NetlinkVipMover();
let handingOver = false;
let stopping = false;
let deferred;
let drainTimer;
async function releaseDeferred() {
  clearTimeout(drainTimer);
  const d = deferred;
  deferred = undefined;
  if (d) await netlink.remove(d.vips, d.ctx).catch((e) => say("error", { message: e.message }));
}
const vipMover = netlink && {
  prepare: (ctx) => netlink.prepare(ctx),
  add: (vips, ctx) => {
    clearTimeout(drainTimer);
    deferred = undefined;
    return netlink.add(vips, ctx);
  },
  remove: async (vips, ctx) => {
    if (stopping) return netlink.remove(vips, ctx);
    deferred = { vips, ctx };
    clearTimeout(drainTimer);
    if (!handingOver) drainTimer = setTimeout(releaseDeferred, DRAIN_MS);
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
// Flow handoff (raw mode): a connection whose SYN reached the old holder just before the VIP moved here sends its
// next packets here, where no socket knows it and the kernel would reset it. When this node takes the VIP from a
// live peer (it preempted it, or the peer resigned: an advert heard within the last 1.5 intervals) it forwards such
// stray packets to that peer for 750 ms — inside the 1 s the peer still holds the VIP and drains (vipMover above),
// so nothing goes to a peer that has let the VIP go. A peer that went silent (crash) gets nothing: its flows are
// gone, and resets tell their clients at once.
let handoff = udp
  ? undefined
  : new FlowHandoff({
      vips: [o.vip.split("/")[0]],
      ports: [bindPort],
      device: o.interface,
      graceMs: DRAIN_MS - 250,
    });
handoff?.on("forward", (e) => say("handoff", { peer: e.peer ?? null }));
handoff?.on("error", (e) => say("error", { message: e.message }));
vrrp.on("change", (c) => {
  if (!handoff) return;
  const heard = vrrp.lastAdvert;
  if (c.to === "master" && heard && heard.ago <= 1500 && heard.from !== vrrp.address)
    handoff.forward(heard.from).catch((e) => say("error", { message: e.message }));
  else if (c.from === "master") handoff.cancel().catch((e) => say("error", { message: e.message }));
});
vrrp.on("priority", (p) => say("priority", { from: p.from, to: p.to }));
vrrp.on("error", (e) => say("error", { message: e.message }));

await proxy.start();
await self.start();
await handoff?.start().catch((e) => {
  say("warning", { message: `no flow handoff: ${e.message}` }); // e.g. no nft binary: VIP moves as before
  handoff = undefined;
});
await transport?.start();
await vrrp.start();
say("started", {
  priority: vrrp.priority,
  mode: udp ? "udp-loopback" : "raw",
  stats: `/web-status on ${o.stats}`,
});

// A master whose own proxy is down resigns at once (a planned handover: the backup takes over after Skew_Time)
// rather than advertising a lower priority and waiting for the backup's Master_Down_Interval — and whatever the
// weights (the guides' 104/100 with weight 2 never move the VIP). It resumes its priority when the proxy is back.
let resignedForProxy = false;
self.on("change", (e) => {
  say("self-check", { to: e.to, reason: e.reason });
  if (e.to === "down" && vrrp.state === "master" && !handingOver) {
    resignedForProxy = true;
    handOver(5000);
  } else if (e.to === "up" && resignedForProxy) {
    resignedForProxy = false;
    vrrp.resume();
  }
});

// each server's state as this node's proxy sees it, once a second (the demo's timeline shows the master's view)
const snapshot = setInterval(
  () =>
    say("servers", {
      states: Object.fromEntries(proxy.backend("web").pool.servers.map((x) => [x.id, x.state])),
    }),
  1000,
);
// planned maintenance: resign (priority-0 advert), keep the VIP until the peer is master (its GARPs move the
// clients), drain, then let the VIP go
async function handOver(timeout) {
  handingOver = true;
  try {
    const { master } = await vrrp.handover({ timeout });
    say("handover", { master });
    await new Promise((r) => setTimeout(r, 1000));
  } catch (e) {
    say("error", { message: e.message });
  }
  handingOver = false;
  if (deferred)
    await netlink.remove(deferred.vips, deferred.ctx).catch((e) => say("error", { message: e.message }));
  deferred = undefined;
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", async (chunk) => {
  for (const cmd of chunk.split("\n").map((s) => s.trim())) {
    if (cmd === "handover") {
      await handOver(10_000);
    } else if (cmd === "resume") vrrp.resume();
    else if (cmd === "kill-proxy") {
      // the proxy dies, the VRRP speaker lives (the tracked check must notice)
      await proxy.stop();
      self.observe("proxy", { ok: false, code: "ECONNREFUSED" });
      say("proxy-stopped");
    }
  }
});

let shuttingDown = false;
async function shutdown(graceful) {
  if (shuttingDown) return;
  shuttingDown = true;
  clearInterval(snapshot);
  // a graceful stop (SIGTERM) of the master is a planned handover first (no request lost when a peer is there)
  if (graceful && vrrp.state === "master" && !handingOver) await handOver(2500);
  stopping = true;
  handingOver = false;
  await vrrp.stop(); // priority-0 advert if still master, VIP removed
  await releaseDeferred();
  await handoff?.stop().catch(() => {});
  await netlink?.stop();
  await transport?.stop();
  await tracker.stop();
  await self.stop();
  await proxy.stop();
  say("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => shutdown(true));
process.on("SIGINT", () => shutdown(false));

function splitHostPort(s) {
  const i = s.lastIndexOf(":");
  return [s.slice(0, i), Number(s.slice(i + 1))];
}
