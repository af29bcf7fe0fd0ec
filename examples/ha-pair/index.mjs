// The guides' HA pair, rebuilt with lbkit: two load-balancer nodes (each @lbkit/proxy + @lbkit/vrrp, node.mjs)
// hold the VIP 198.18.0.200 in front of three web servers (web1:80, web2:8080, web3:8080), and a client sends
// requests to the VIP. The timeline shows, each second: the VIP holder, requests answered and failed, each
// server's state, and which node served. Midway the master is killed (SIGKILL + link down), then it comes
// back (preempts), then a planned handover moves the VIP with no request lost.
// As root: network namespaces, a real VIP, raw VRRP, gratuitous ARP. Without root (or with --udp): the same
// processes on loopback with the (non-standard) UDP transport, and 127.0.0.200:18080 standing in for the VIP (a
// forwarder to the current master). Bounded: about 40 s.
// As root it builds the namespace lab of test/lab (@lbkit/lab, as the failover demo): the namespaces
// (lbk-<pid>-<hex>-*) and every process are removed however the demo ends short of SIGKILL — at the end, on
// Ctrl-C, SIGTERM or SIGHUP, when stdout is closed (`… | head`), on an error — and the next run removes those of
// a run that was SIGKILLed (their PID is dead).
import { execFileSync, spawn } from "node:child_process";
import { createConnection, createServer } from "node:net";
import { createInterface } from "node:readline";
import { cli } from "../cli.mjs";
import { clientArgv, HOSTS, LBS, lbArgv, VIP, WEBS, webArgv } from "./topology.mjs";

const o = cli(
  `
usage: node examples/ha-pair/index.mjs [--rate N] [--udp]

The guides' keepalived + HAProxy pair in lbkit, in network namespaces (root):
  lb1 (198.18.0.11, priority 104) and lb2 (198.18.0.12, priority 100) run @lbkit/proxy + @lbkit/vrrp
  (advert_int 1, auth PASS, tracking their own proxy with weight 2) and hold the VIP 198.18.0.200;
  web1 198.18.0.21:80, web2 198.18.0.22:8080, web3 198.18.0.23:8080; a client sends N requests/s (default 50).
Timeline: election, the master crashes, it comes back (preempts), a planned handover. About 40 s.
Stats page: the proxy's own (HAProxy's stats uri) at http://<node>:8404/web-status inside the namespaces
(printed while it runs; ;csv and ;json too).
Without root, or with --udp: the same on loopback (127.0.0.11/12, web servers 127.0.0.21-23:18080, UDP VRRP
transport), with 127.0.0.200:18080 standing in for the VIP (a forwarder to the current master).
Side by side, the same topology as haproxy.cfg + keepalived.conf: examples/ha-pair/classic/.
  -h, --help   this text`,
  { rate: { type: "string", default: "50" }, udp: { type: "boolean", default: false } },
);
const hasIp = (() => {
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const udp = o.udp || process.getuid?.() !== 0 || !hasIp;

// ── ending: however it ends, children are stopped and the lab is destroyed before the process exits ──
let stdoutOpen = true;
const children = new Set();
let lab; // @lbkit/lab, as root
let labPromise;
let forwarder;
let stopping;
function stop(code) {
  stopping ??= (async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    const built = await labPromise?.catch(() => undefined);
    await built?.destroy();
    forwarder?.close();
    process.exit(code);
  })();
  return stopping;
}
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
process.on("SIGINT", () => void stop(130));
process.on("SIGTERM", () => void stop(143));
process.on("SIGHUP", () => void stop(129));
process.stdout.on("error", (err) => {
  stdoutOpen = false;
  if (err.code !== "EPIPE") console.error(`ha-pair demo: stdout: ${err.message}`);
  void stop(141);
});
const say = (line = "") => {
  if (stdoutOpen) console.log(line);
};
/** a process on host `name` (its namespace as root; `ip netns exec` execs argv, so the PID is its own) */
function spawnOn(name, argv) {
  const child = udp
    ? spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "inherit"] })
    : spawn("ip", ["netns", "exec", lab.node(name).ns, ...argv], { stdio: ["pipe", "pipe", "inherit"] });
  child.stdin.on("error", () => {}); // the process may be gone when we tell it something
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}
/** `ip -n <host's namespace> …` */
const ipOn = (name, ...args) =>
  execFileSync("ip", ["-n", lab.node(name).ns, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
if (!udp) {
  // imported here so that the loopback mode runs without the lab package built
  const { createLab } = await import("@lbkit/lab");
  labPromise = createLab({ nodes: HOSTS.map((h) => ({ name: h.name, ipv4: `${h.address}/24` })) });
  lab = await labPromise;
}
// on loopback: the same hosts at 127.0.0.x, web servers on 18080, the proxies on 18080 of their own address
const U = (a) => a.replace("198.18.0.", "127.0.0.");
const UDP_PORT = 18080;
const argvOf = {
  lb: (n) =>
    udp
      ? lbArgv(n)
          .map((a, i, all) => {
            if (all[i - 1] === "--vip") return "127.0.0.200/8";
            if (all[i - 1] === "--interface") return U(n.address);
            if (all[i - 1] === "--servers")
              return WEBS.map((w) => `${w.name}=${U(w.address)}:${UDP_PORT}`).join(",");
            return a;
          })
          .map((a) => (a === "--interface" ? "--udp" : a))
          .concat(["--peers", LBS.map((x) => U(x.address)).join(",")])
          .concat(["--bind", `${U(n.address)}:${UDP_PORT}`, "--stats", `${U(n.address)}:18404`])
      : lbArgv(n),
  web: (w) => (udp ? webArgv({ ...w, address: U(w.address), port: UDP_PORT }) : webArgv(w)),
};
const vipUrl = udp ? `http://127.0.0.200:${UDP_PORT}/index.html` : `http://${VIP}/index.html`;
const shownVip = udp ? "127.0.0.200" : VIP;

// on loopback the VIP is a forwarder to the node that is master (kept on the old one until another is master,
// as the real VIP is during a drain)
let forwardTo;
forwarder = udp
  ? createServer((c) => {
      if (!forwardTo) return c.destroy();
      const up = createConnection(UDP_PORT, U(forwardTo.address));
      c.pipe(up).pipe(c);
      up.on("error", () => c.destroy());
      c.on("error", () => up.destroy());
    })
  : undefined;
if (forwarder) await new Promise((r) => forwarder.listen(UDP_PORT, "127.0.0.200", r));

const t0 = Date.now();
const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
const log = (line) => say(`${stamp()}  ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const byAddress = Object.fromEntries(LBS.map((n) => [n.address, n.name]));

// ── processes ──
const views = new Map(); // lb name → { web1: "up", … } as that node's proxy sees them
const procs = new Map();
function startLb(n) {
  n.state = "starting";
  views.set(n.name, Object.fromEntries(WEBS.map((w) => [w.name, "?"])));
  const child = spawnOn(n.name, argvOf.lb(n));
  procs.set(n.name, child);
  child.once("exit", () => {
    n.state = "gone";
    if (forwardTo === n) forwardTo = undefined; // a crashed node's VIP is gone with it
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
      if (e.to === "master") forwardTo = n;
      else if (forwardTo === n) {
        // two nodes can become master in the same instant (their master-down timers differ by ms); the one that
        // steps down hands the stand-in VIP to the one still master, as its real VIP would stay with that one
        const other = LBS.find((m) => m !== n && m.state === "master");
        if (other) forwardTo = other;
        else if (e.to === "stopped") forwardTo = undefined;
      }
      log(
        `${e.node}: VRRP ${e.from.toUpperCase()} → ${e.to.toUpperCase()}  (priority ${e.priority}, ${e.reason})`,
      );
    } else if (e.event === "server") {
      views.get(e.node)[e.id] = e.to;
      log(`${e.node}: server ${e.id} ${e.from} → ${e.to} (${e.reason})`);
    } else if (e.event === "servers") Object.assign(views.get(e.node), e.states);
    else if (e.event === "started")
      log(
        `${e.node}: started, priority ${e.priority}; stats page http://${udp ? `${U(n.address)}:18404` : `${n.address}:8404`}/web-status`,
      );
    else if (e.event === "priority") log(`${e.node}: priority ${e.from} → ${e.to}`);
    else if (e.event === "handover") log(`${e.node}: handover done, ${e.master} is master`);
    else if (e.event === "handoff")
      log(
        e.peer
          ? `${e.node}: flows ${e.peer} accepted before the move go back to it (1 s)`
          : `${e.node}: handoff over`,
      );
    else if (e.event === "warning") log(`${e.node}: ${e.message}`);
    else if (e.event === "error") log(`${e.node}: error ${e.message}`);
  });
}
function startWeb(w) {
  const child = spawnOn(w.name, argvOf.web(w));
  return new Promise((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
}
const holder = () =>
  LBS.filter((n) =>
    udp
      ? forwardTo === n
      : n.state !== "gone" && ipOn(n.name, "-4", "addr", "show", "dev", "eth0").includes(`${VIP}/`),
  )
    .map((n) => n.name)
    .join("+") || "nobody";

// ── the client and the per-second timeline ──
const phase = { name: "start", ok: 0, failed: 0 };
const totals = [];
function startClient(seconds) {
  const child = spawnOn(
    "client",
    clientArgv(o.rate, seconds).map((a, i, all) => (all[i - 1] === "--url" ? vipUrl : a)),
  );
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
  say(`\n── ${next} ──`);
  Object.assign(phase, { name: next, ok: 0, failed: 0 });
}
async function until(pred, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(100);
  if (!pred()) log("(timed out waiting; carrying on)");
}

// ── the story ──
say(
  `lbkit ha-pair demo — ${udp ? "UDP loopback transport (not root or --udp: no namespaces, 127.0.0.200 stands in for the VIP)" : `namespaces ${lab.id}-*`}: VIP ${shownVip};\n` +
    `lb1 (priority 104) and lb2 (100), VRRP v2 every 1 s, auth PASS; web1, web2, web3; a client sends ${o.rate} requests/s to ${vipUrl}\n`,
);
await Promise.all(WEBS.map(startWeb));
for (const n of LBS) startLb(n);
await until(() => LBS[0].state === "master", 10_000);
const client = startClient(45);
await sleep(4_000);

endPhase(
  `lb1 crashes: SIGKILL${udp ? "" : " and its link goes down"} (lb2 takes over after Master_Down_Interval ≈ 3.6 s)`,
);
procs.get("lb1").kill("SIGKILL");
if (!udp) ipOn("lb1", "link", "set", "eth0", "down");
await until(() => LBS[1].state === "master", 10_000);
await sleep(3_000);

endPhase(`lb1 comes back: ${udp ? "" : "link up, "}node restarted; priority 106 > 102, it preempts`);
if (!udp) {
  try {
    ipOn("lb1", "addr", "del", `${VIP}/24`, "dev", "eth0"); // a rebooted machine has lost the VIP
  } catch {}
  ipOn("lb1", "link", "set", "eth0", "up");
}
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
say("\nphase                                   answered  failed");
for (const p of totals)
  say(`${p.name.slice(0, 38).padEnd(40)}${String(p.ok).padStart(8)}${String(p.failed).padStart(8)}`);
for (const c of procs.values()) if (c.exitCode === null) c.kill("SIGINT"); // stop now (SIGTERM would hand over)
await Promise.race([
  Promise.all(
    [...procs.values()].map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null)),
  ),
  sleep(3000),
]);
for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL"); // web servers
await lab?.destroy();
forwarder?.close();
say(udp ? "\nall processes stopped." : `\nnamespaces ${lab.id}-* removed.`);
process.exit(0);
