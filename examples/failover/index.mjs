// The classic keepalived pair, rebuilt with lbkit: two load-balancer nodes elect a VRRP master; the master's
// tracked health check fails and the VIP moves; the backend recovers and the VIP fails back; the master stops
// and hands over with a priority-0 advert.
// As root: each node runs in its own network namespace on a bridge (the lab of test/lab, @lbkit/lab), with a
// real VIP (netlink), raw VRRP (IP protocol 112) and gratuitous ARP, and a client namespace shows whose MAC the
// VIP resolves to. Without root (or with --udp): the same nodes on the (non-standard) UDP loopback transport.
// Bounded: about 15 s. The namespaces (lbk-<pid>-<hex>-*) are removed however the demo ends short of SIGKILL —
// at the end, on Ctrl-C, SIGTERM or SIGHUP, when stdout is closed (`… | head`), on an error — and the next run
// removes those of a run that was SIGKILLed (their PID is dead).
import { execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { cli } from "../cli.mjs";

const args = cli(
  `
usage: node examples/failover/index.mjs [--udp]
VRRP failover of a VIP on a failed health check, failback, and a priority-0 handover, as a timeline (~15 s).
As root it builds network namespaces (real VIP, raw VRRP, gratuitous ARP) and removes them on exit.
  --udp        use the UDP loopback transport even as root (no namespaces, no real VIP)
  -h, --help   this text`,
  { udp: { type: "boolean" } },
);

const NODE_SCRIPT = fileURLToPath(new URL("./node.mjs", import.meta.url));
const isRoot = process.getuid?.() === 0;
const hasIp = (() => {
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const mode = args.udp || !isRoot || !hasIp ? "udp" : "netns";
const whyUdp = args.udp ? "--udp" : !isRoot ? "not root" : "no `ip` command";
const VIP = mode === "netns" ? "198.18.0.200" : "127.0.0.200";
const NODES = [
  { name: "lb1", priority: 150, address: mode === "netns" ? "198.18.0.11" : "127.0.0.11" },
  { name: "lb2", priority: 100, address: mode === "netns" ? "198.18.0.12" : "127.0.0.12" },
];
const t0 = Date.now();
const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(2).padStart(6)}s`;

// ── output that survives a closed stdout (`npm run demo | head`): stop writing, clean up, exit ──
let stdoutOpen = true;
const say = (line = "") => {
  if (stdoutOpen) console.log(line);
};
const log = (line) => say(`${stamp()}  ${line}`);
process.stdout.on("error", (err) => {
  stdoutOpen = false;
  if (err.code !== "EPIPE") console.error(`failover demo: stdout: ${err.message}`);
  void stop(0);
});

// ── ending: however it ends, children are stopped and the lab is destroyed before the process exits ──
class Stopped extends Error {}
let stopping;
let labPromise;
const procs = new Map();
function stop(code) {
  stopping ??= (async () => {
    const running = [...procs.values()].filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of running) c.kill("SIGTERM"); // a master sends its priority-0 advert and removes the VIP
    await Promise.race([
      Promise.all(running.map((c) => new Promise((r) => c.once("exit", r)))),
      new Promise((r) => setTimeout(r, 3000).unref()),
    ]);
    // a lab still being built finishes (or notices it was torn down by a signal) before it is destroyed
    const lab = await labPromise?.catch(() => undefined);
    if (lab) {
      await lab.destroy();
      say(`\nnamespaces ${lab.id}-* removed.`);
    } else if (labPromise) say("\nstopped while the lab was being built: its namespaces are removed.");
    else if (mode === "udp" && code === 0) say("\ndone.");
    process.exit(code);
  })();
  return stopping;
}
process.on("SIGINT", () => void stop(130));
process.on("SIGTERM", () => void stop(143));
process.on("SIGHUP", () => void stop(129));

// ── the nodes ──
function startNode(n, lab) {
  const nodeArgs =
    mode === "netns"
      ? [NODE_SCRIPT, "--interface", "eth0", "--vip", `${VIP}/24`]
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
  nodeArgs.push("--name", n.name, "--priority", String(n.priority));
  // `ip netns exec` execs node after entering the namespace: the child's PID is the node itself
  const child =
    mode === "netns"
      ? spawn("ip", ["netns", "exec", lab.node(n.name).ns, process.execPath, ...nodeArgs], {
          stdio: ["pipe", "pipe", "inherit"],
        })
      : spawn(process.execPath, nodeArgs, { stdio: ["pipe", "pipe", "inherit"] });
  child.stdin.on("error", () => {}); // the node may be gone when we tell it something
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
    if (e.event === "state") onState(n, e);
    else if (e.event === "priority") {
      n.priority = e.to;
      log(`${e.node}: priority ${e.from} → ${e.to}`);
    } else if (e.event === "check") log(`${e.node}: health check web ${e.to} (${e.reason})`);
    else if (e.event === "backend")
      log(`${e.node}: backend ${e.healthy ? "recovered" : "breaks: /health answers 503"}`);
    else if (e.event === "error") log(`${e.node}: error ${e.message}`);
  });
}

// ── narration: the library's reason, and what it means here ──
let dualMasterExplained = false;
function onState(n, e) {
  const others = NODES.filter((x) => x !== n);
  const master = others.find((x) => x.state === "master");
  let why = e.reason;
  if (e.to === "master" && e.reason === "master-down-timer" && master && master.priority < e.priority)
    why = `preempt: higher than master ${master.name}'s ${master.priority}, whose adverts it ignores (master-down-timer)`;
  else if (e.to === "master" && e.reason === "master-down-timer") why = "master-down-timer: no advert heard";
  else if (e.reason === "peer-resigned") why = "peer-resigned: the master sent priority 0";
  else if (e.to === "backup" && e.reason === "higher-priority") why = "higher-priority advert heard";
  n.state = e.to;
  log(`${e.node}: ${e.from.toUpperCase()} → ${e.to.toUpperCase()}  (priority ${e.priority}, ${why})`);
  if (e.to === "master" && master && !dualMasterExplained) {
    dualMasterExplained = true;
    say(
      `${"".padEnd(10)}↳ two MASTERs for a moment: a node becomes MASTER when its Master_Down_Timer runs out — at\n` +
        `${"".padEnd(12)}startup before it has heard the other's first advert, or when it preempts a lower priority —\n` +
        `${"".padEnd(12)}and the other steps down at the first higher-priority advert it hears (RFC 5798 §6.4.3).`,
    );
  }
}

// ── who holds the VIP: the kernel's addresses, and the MAC the client resolves it to ──
function holder(lab) {
  if (mode === "udp")
    return (
      NODES.filter((n) => n.state === "master")
        .map((n) => n.name)
        .join("+") || "nobody"
    );
  const ip = (...a) => execFileSync("ip", a, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const owners = NODES.filter((n) =>
    ip("-n", lab.node(n.name).ns, "-4", "addr", "show", "dev", "eth0").includes(`${VIP}/`),
  );
  const neigh = ip("-n", lab.node("client").ns, "neigh", "show", VIP).match(/lladdr (\S+)/)?.[1];
  const byMac = new Map(NODES.map((n) => [lab.node(n.name).mac, n.name]));
  const seen = neigh ? (byMac.get(neigh) ?? neigh) : "no ARP entry yet";
  return `${owners.map((n) => n.name).join("+") || "nobody"} (kernel address) · client's ARP says ${seen}`;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let lastHolder = "";
async function watch(lab, ms, pred = () => false) {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) {
    if (stopping) throw new Stopped();
    const h = holder(lab);
    if (h !== lastHolder) {
      log(`VIP ${VIP} → ${h}`);
      lastHolder = h;
    }
    await sleep(50);
  }
  if (stopping) throw new Stopped();
}
const until = (lab, pred, ms) => watch(lab, ms, pred);
const tell = (name, line) => procs.get(name)?.stdin.write(`${line}\n`);

async function main() {
  if (mode === "netns") {
    say(
      `lbkit failover demo — real VRRP in network namespaces: VIP ${VIP}, lb1 (priority 150) and lb2 (100),`,
    );
    say(`VRRP v3 every 200 ms. Building the lab (a bridge, three namespaces, veth links)…`);
    // imported here so that the UDP mode runs without the lab package built
    const { createLab } = await import("@lbkit/lab");
    labPromise = createLab({
      nodes: [
        ...NODES.map((n) => ({ name: n.name, ipv4: `${n.address}/24` })),
        { name: "client", ipv4: "198.18.0.100/24" },
      ],
    });
    const lab = await labPromise;
    if (stopping) throw new Stopped();
    say(`namespaces ${lab.id}-{br,lb1,lb2,client}; each node's eth0 is a port of the bridge.`);
    return run(lab);
  }
  say(
    `lbkit failover demo — UDP loopback transport (${whyUdp}, so no namespaces, no real VIP): VIP ${VIP}, lb1 (150), lb2 (100)`,
  );
  return run(undefined);
}

async function run(lab) {
  say();
  for (const n of NODES) startNode(n, lab);
  await until(lab, () => NODES.some((n) => n.state === "master"), 5_000);
  if (lab) await lab.exec("client", ["ping", "-c1", "-W1", VIP]).catch(() => {}); // the client gets an ARP entry
  await watch(lab, 1_500);

  say("\n── the master's backend fails: its health check goes down, priority 150 − 60 = 90 < 100 ──");
  tell("lb1", "fail");
  await until(lab, () => NODES[1].state === "master", 5_000);
  await watch(lab, 2_000);

  say("\n── the backend recovers: priority back to 150, lb1 preempts and the VIP fails back ──");
  tell("lb1", "recover");
  await until(lab, () => NODES[0].state === "master", 5_000);
  await watch(lab, 2_000);

  say("\n── lb1 is stopped: it sends a priority-0 advert and lb2 takes over at once ──");
  procs.get("lb1").kill("SIGTERM");
  await until(lab, () => NODES[1].state === "master", 5_000);
  await watch(lab, 1_500);
}

main().then(
  () => stop(0),
  (err) => {
    if (err instanceof Stopped || stopping) return;
    console.error(`failover demo: ${err instanceof Error ? err.message : err}`);
    void stop(1);
  },
);
