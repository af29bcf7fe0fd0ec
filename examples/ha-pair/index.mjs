// The guides' HA pair, rebuilt with lbkit: two load-balancer nodes (each @lbkit/proxy + @lbkit/vrrp, node.mjs)
// hold the VIP 198.18.0.200 in front of three web servers (web1:80, web2:8080, web3:8080), and a client sends
// requests to the VIP. The timeline shows, each second: the VIP holder, requests answered and failed, each
// server's state, and which node served. Midway the master is killed (SIGKILL + link down), then it comes
// back (preempts), then a planned handover moves the VIP with no request lost.
// Needs root (network namespaces, a real VIP, raw VRRP, gratuitous ARP). Bounded: about 40 s.
// Everything it creates is removed however it ends (Ctrl-C, SIGTERM, a closed pipe).
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { canUseNamespaces, createLab } from "./lab.mjs";
import { clientArgv, HOSTS, LBS, lbArgv, VIP, WEBS, webArgv } from "./topology.mjs";

const { values: o } = parseArgs({
  options: {
    rate: { type: "string", default: "50" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (o.help) {
  console.log(`usage: node examples/ha-pair/index.mjs [--rate N]

The guides' keepalived + HAProxy pair in lbkit, in network namespaces (root):
  lb1 (198.18.0.11, priority 104) and lb2 (198.18.0.12, priority 100) run @lbkit/proxy + @lbkit/vrrp
  (advert_int 1, auth PASS, tracking their own proxy with weight 2) and hold the VIP 198.18.0.200;
  web1 198.18.0.21:80, web2 198.18.0.22:8080, web3 198.18.0.23:8080; a client sends N requests/s (default 50).
Timeline: election, the master crashes, it comes back (preempts), a planned handover. About 40 s.
Stats page: http://<node>:8404/web-status inside the namespaces (printed while it runs).
Side by side, the same topology as haproxy.cfg + keepalived.conf: examples/ha-pair/classic/.`);
  process.exit(0);
}
if (!canUseNamespaces()) {
  // no root: the pair needs namespaces for a real VIP; the unprivileged failover demo (UDP loopback) runs instead
  console.log(
    "ha-pair needs root (network namespaces, a real VIP, raw VRRP); running the unprivileged failover demo instead\n",
  );
  const { spawnSync } = await import("node:child_process");
  const failover = fileURLToPath(new URL("../failover/index.mjs", import.meta.url));
  process.exit(spawnSync(process.execPath, [failover, "--udp"], { stdio: "inherit" }).status ?? 1);
}

const lab = createLab("lbkha", HOSTS);
const t0 = Date.now();
const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
const log = (line) => console.log(`${stamp()}  ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const byAddress = Object.fromEntries(LBS.map((n) => [n.address, n.name]));

// ── processes ──
const views = new Map(); // lb name → { web1: "up", … } as that node's proxy sees them
const procs = new Map();
function startLb(n) {
  n.state = "starting";
  views.set(n.name, Object.fromEntries(WEBS.map((w) => [w.name, "?"])));
  const child = lab.spawn(n.name, lbArgv(n));
  procs.set(n.name, child);
  child.once("exit", () => {
    n.state = "gone";
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    if (e.event === "state") {
      n.state = e.to;
      log(
        `${e.node}: VRRP ${e.from.toUpperCase()} → ${e.to.toUpperCase()}  (priority ${e.priority}, ${e.reason})`,
      );
    } else if (e.event === "server") {
      views.get(e.node)[e.id] = e.to;
      log(`${e.node}: server ${e.id} ${e.from} → ${e.to} (${e.reason})`);
    } else if (e.event === "servers") Object.assign(views.get(e.node), e.states);
    else if (e.event === "started")
      log(`${e.node}: started, priority ${e.priority}; stats page http://${n.address}:8404/web-status`);
    else if (e.event === "priority") log(`${e.node}: priority ${e.from} → ${e.to}`);
    else if (e.event === "handover") log(`${e.node}: handover done, ${e.master} is master`);
    else if (e.event === "error") log(`${e.node}: error ${e.message}`);
  });
}
function startWeb(w) {
  const child = lab.spawn(w.name, webArgv(w));
  return new Promise((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
}
const holder = () =>
  LBS.filter(
    (n) => n.state !== "gone" && lab.ip(n.name, "-4", "addr", "show", "dev", "eth0").includes(`${VIP}/`),
  )
    .map((n) => n.name)
    .join("+") || "nobody";

// ── the client and the per-second timeline ──
const phase = { name: "start", ok: 0, failed: 0 };
const totals = [];
function startClient(seconds) {
  const child = lab.spawn("client", clientArgv(o.rate, seconds));
  createInterface({ input: child.stdout }).on("line", (line) => {
    const s = JSON.parse(line);
    phase.ok += s.ok;
    phase.failed += s.failed;
    const h = holder();
    const via = Object.entries(s.proxies)
      .map(([a, c]) => `${byAddress[a] ?? a} ${c}`)
      .join(", ");
    const view = views.get(LBS.find((n) => n.state === "master")?.name ?? "lb1") ?? {};
    const servers = WEBS.map((w) => `${w.name} ${(view[w.name] ?? "?").toUpperCase()}`).join("  ");
    const errors = Object.entries(s.errors)
      .map(([e, c]) => `${e}×${c}`)
      .join(" ");
    log(
      `VIP ${h.padEnd(7)} | ${String(s.ok).padStart(3)} ok/s ${String(s.failed).padStart(3)} failed${errors ? ` (${errors})` : ""} | ${servers} | served by ${via || "—"}`,
    );
  });
  return child;
}
function endPhase(next) {
  totals.push({ ...phase });
  console.log(`\n── ${next} ──`);
  Object.assign(phase, { name: next, ok: 0, failed: 0 });
}
async function until(pred, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(100);
  if (!pred()) log("(timed out waiting; carrying on)");
}

// ── the story ──
console.log(
  `lbkit ha-pair demo — namespaces ${lab.tag}-*: VIP ${VIP}; lb1 (priority 104) and lb2 (100), VRRP v2 every 1 s, auth PASS;\n` +
    `web1 :80, web2 :8080, web3 :8080; a client sends ${o.rate} requests/s to http://${VIP}/index.html\n`,
);
await Promise.all(WEBS.map(startWeb));
for (const n of LBS) startLb(n);
await until(() => LBS[0].state === "master", 10_000);
const client = startClient(45);
await sleep(4_000);

endPhase("lb1 crashes: SIGKILL and its link goes down (lb2 takes over after Master_Down_Interval ≈ 3.6 s)");
procs.get("lb1").kill("SIGKILL");
lab.ip("lb1", "link", "set", "eth0", "down");
await until(() => LBS[1].state === "master", 10_000);
await sleep(3_000);

endPhase("lb1 comes back: link up, node restarted; priority 106 > 102, it preempts");
try {
  lab.ip("lb1", "addr", "del", `${VIP}/24`, "dev", "eth0"); // a rebooted machine has lost the VIP
} catch {}
lab.ip("lb1", "link", "set", "eth0", "up");
startLb(LBS[0]);
await until(() => LBS[0].state === "master", 15_000);
await sleep(3_000);

endPhase(
  "planned maintenance: lb1 hands over (priority-0 advert), keeps the VIP until lb2 is master, drains",
);
procs.get("lb1").stdin.write("handover\n");
await until(() => LBS[1].state === "master", 10_000);
await sleep(3_000);
totals.push({ ...phase });

client.kill("SIGTERM");
console.log("\nphase                                   answered  failed");
for (const p of totals)
  console.log(`${p.name.slice(0, 38).padEnd(40)}${String(p.ok).padStart(8)}${String(p.failed).padStart(8)}`);
for (const c of procs.values()) if (c.exitCode === null) c.kill("SIGINT"); // stop now (SIGTERM would hand over)
await Promise.race([
  Promise.all(
    [...procs.values()].map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null)),
  ),
  sleep(3000),
]);
lab.destroy();
console.log(`\nnamespaces ${lab.tag}-* removed.`);
