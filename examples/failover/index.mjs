// The classic keepalived pair, rebuilt with lbkit: two load-balancer nodes elect a VRRP master; the master's
// tracked health check fails and the VIP moves; the backend recovers and the VIP fails back.
// As root: each node runs in its own network namespace on a bridge, with a real VIP (netlink), raw VRRP
// (IP protocol 112) and gratuitous ARP, and a client namespace shows whose MAC the VIP resolves to.
// Without root: the same nodes on the (non-standard) UDP loopback transport.
// Bounded: about 15 s; everything it creates is removed on exit, Ctrl-C included.
import { execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const NODE_SCRIPT = fileURLToPath(new URL("./node.mjs", import.meta.url));
const root = process.getuid?.() === 0 && hasIp();
const mode = process.argv.includes("--udp") || !root ? "udp" : "netns";
const tag = `lbkd-${process.pid}`;
const ns = (name) => `${tag}-${name}`;
const VIP = mode === "netns" ? "198.18.0.200" : "127.0.0.200";
const NODES = [
  { name: "lb1", priority: 150, address: mode === "netns" ? "198.18.0.11" : "127.0.0.11" },
  { name: "lb2", priority: 100, address: mode === "netns" ? "198.18.0.12" : "127.0.0.12" },
];
const t0 = Date.now();
const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(2).padStart(6)}s`;
const log = (line) => console.log(`${stamp()}  ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function hasIp() {
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const ip = (...args) => execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

// ── the lab: a bridge namespace, one namespace per node and a client, veth pairs to the bridge ──
const created = [];
function buildLab() {
  ip("netns", "add", ns("br"));
  created.push(ns("br"));
  ip("-n", ns("br"), "link", "add", "br0", "type", "bridge");
  ip("-n", ns("br"), "link", "set", "br0", "up");
  const hosts = [...NODES.map((n) => [n.name, n.address]), ["client", "198.18.0.100"]];
  hosts.forEach(([name, address], i) => {
    ip("netns", "add", ns(name));
    created.push(ns(name));
    ip(
      "link",
      "add",
      `${tag.slice(-6)}v${i}`,
      "netns",
      ns(name),
      "type",
      "veth",
      "peer",
      "name",
      `p${i}`,
      "netns",
      ns("br"),
    );
    ip("-n", ns(name), "link", "set", `${tag.slice(-6)}v${i}`, "name", "eth0");
    ip("-n", ns(name), "addr", "add", `${address}/24`, "dev", "eth0");
    ip("-n", ns(name), "link", "set", "eth0", "up");
    ip("-n", ns(name), "link", "set", "lo", "up");
    ip("-n", ns("br"), "link", "set", `p${i}`, "master", "br0", "up");
  });
}
function destroyLab() {
  for (const name of created.reverse()) {
    try {
      ip("netns", "del", name);
    } catch {}
  }
  created.length = 0;
}

// ── the nodes ──
const procs = new Map();
function startNode(n) {
  const args =
    mode === "netns"
      ? [
          "netns",
          "exec",
          ns(n.name),
          process.execPath,
          NODE_SCRIPT,
          "--interface",
          "eth0",
          "--vip",
          `${VIP}/24`,
        ]
      : [
          NODE_SCRIPT,
          "--udp",
          n.address,
          "--peers",
          NODES.map((x) => x.address).join(","),
          "--vip",
          `${VIP}/8`,
          "--backend-port",
          "18080",
        ];
  const child = spawn(
    mode === "netns" ? "ip" : process.execPath,
    [...args, "--name", n.name, "--priority", String(n.priority)],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
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
        `${e.node}: ${e.from.toUpperCase()} → ${e.to.toUpperCase()}  (priority ${e.priority}, ${e.reason})`,
      );
    } else if (e.event === "priority") log(`${e.node}: priority ${e.from} → ${e.to}`);
    else if (e.event === "check") log(`${e.node}: health check web ${e.to} (${e.reason})`);
    else if (e.event === "backend")
      log(`${e.node}: backend ${e.healthy ? "recovered" : "breaks: /health answers 503"}`);
    else if (e.event === "error") log(`${e.node}: error ${e.message}`);
  });
  return child;
}

// ── who holds the VIP: the kernel's addresses, and the MAC the client resolves it to ──
const macs = new Map();
function holder() {
  if (mode === "udp")
    return (
      NODES.filter((n) => n.state === "master")
        .map((n) => n.name)
        .join("+") || "nobody"
    );
  const owners = NODES.filter((n) =>
    ip("-n", ns(n.name), "-4", "addr", "show", "dev", "eth0").includes(`${VIP}/`),
  );
  const neigh = ip("-n", ns("client"), "neigh", "show", VIP).match(/lladdr (\S+)/)?.[1];
  const seen = neigh ? (macs.get(neigh) ?? neigh) : "no ARP entry yet";
  return `${owners.map((n) => n.name).join("+") || "nobody"} (kernel address) · client's ARP says ${seen}`;
}
let lastHolder = "";
async function watch(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const h = holder();
    if (h !== lastHolder) {
      log(`VIP ${VIP} → ${h}`);
      lastHolder = h;
    }
    await sleep(50);
  }
}
async function until(pred, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await watch(50);
}

let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const child of procs.values()) if (child.exitCode === null) child.kill("SIGTERM");
  await Promise.all(
    [...procs.values()].map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null)),
  );
  if (mode === "netns") destroyLab();
}
process.on("SIGINT", () => cleanup().then(() => process.exit(130)));
process.on("SIGTERM", () => cleanup().then(() => process.exit(143)));

try {
  console.log(
    mode === "netns"
      ? `lbkit failover demo — real VRRP in network namespaces ${tag}-*: VIP ${VIP}, lb1 (priority 150) and lb2 (100), VRRP v3 every 200 ms`
      : `lbkit failover demo — UDP loopback transport (not root, so no namespaces, no real VIP): VIP ${VIP}, lb1 (150), lb2 (100)`,
  );
  if (mode === "netns") {
    buildLab();
    for (const n of NODES)
      macs.set(ip("-n", ns(n.name), "link", "show", "eth0").match(/link\/ether (\S+)/)[1], n.name);
  }
  console.log("");
  for (const n of NODES) startNode(n);
  await until(() => NODES.some((n) => n.state === "master"), 5_000);
  if (mode === "netns") {
    // the client talks to the VIP, so it has an ARP entry that GARPs must update
    try {
      execFileSync("ip", ["netns", "exec", ns("client"), "ping", "-c1", "-W1", VIP], { stdio: "ignore" });
    } catch {}
  }
  await watch(1_500);

  console.log("\n── the master's backend fails: its health check goes down, priority 150 − 60 = 90 < 100 ──");
  procs.get("lb1").stdin.write("fail\n");
  await until(() => NODES[1].state === "master", 5_000);
  await watch(2_000);

  console.log("\n── the backend recovers: priority back to 150, lb1 preempts and the VIP fails back ──");
  procs.get("lb1").stdin.write("recover\n");
  await until(() => NODES[0].state === "master", 5_000);
  await watch(2_000);

  console.log("\n── lb1 is stopped: it sends a priority-0 advert and lb2 takes over at once ──");
  procs.get("lb1").kill("SIGTERM");
  await until(() => NODES[1].state === "master", 5_000);
  await watch(1_500);
} finally {
  await cleanup();
  console.log(mode === "netns" ? `\nnamespaces ${tag}-* removed.` : "\ndone.");
}
