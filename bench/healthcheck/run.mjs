// One health-check bench configuration, lbkit and HAProxy 2.6 interleaved: each round runs both peers (the
// order alternating between rounds) against a fresh backend process with the same loopback listeners and the
// same schedule (`inter`, rise 2 fall 3, timeout = inter). Every run is alone in a network namespace of its own
// (created here, always deleted; needs root), so that both are counted the same way, free of the machine's
// other traffic: HTTP checks by the connections the backend accepted, TCP checks by the namespace's kernel
// active opens (a connect check's connection may be closed before the backend accepts it). CPU is read from
// /proc for each checker's own process.
// Usage: node healthcheck/run.mjs [--check http|tcp] [--targets 10000] [--inter 1000] [--seconds 15]
//          [--rounds 2] [--ports 100] [--peers lbkit,haproxy,node-floor] [--json out.json] [--cpu-prof dir]
// `node-floor` (floor.mjs) does the same connections with bare net.connect, `node-wrap` with libuv's TCP handle
// and no net.Socket: what a Node.js checker pays through each transport.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const CHECK = arg("check", "http");
const TARGETS = Number(arg("targets", 10_000));
const INTER = Number(arg("inter", 1000));
const SECONDS = Number(arg("seconds", 15));
const ROUNDS = Number(arg("rounds", 2));
const PORTS = Number(arg("ports", 100));
const PEERS = arg("peers", "lbkit,haproxy,node-floor").split(",");
const CPU_PROF = arg("cpu-prof", undefined);
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), "lbkit-hc-bench-"));
const NETNS = `lbkit-hcb-${process.pid}`;
const ip = (...a) => execFileSync("ip", a, { stdio: ["ignore", "ignore", "inherit"] });
/** Runs `cmd` inside the bench's namespace (`ip netns exec` execs it: the pid is the command's). */
const inNetns = (cmd, args, opts) => spawn("ip", ["netns", "exec", NETNS, cmd, ...args], opts);
/** The namespace's TCP ActiveOpens, read through a process inside it. */
const activeOpens = (pid) => {
  const lines = readFileSync(`/proc/${pid}/net/snmp`, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("Tcp:"));
  const head = lines[0].split(/\s+/);
  return Number(lines[1].split(/\s+/)[head.indexOf("ActiveOpens")]);
};
const dropNetns = () => {
  try {
    ip("netns", "del", NETNS);
  } catch {}
};
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    dropNetns();
    process.exit(1);
  });

/** CPU seconds used so far by process `pid` (utime + stime from /proc, in clock ticks of 10 ms). */
const procCpu = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};
/** Whole-machine busy and total jiffies from /proc/stat. */
const machine = () => {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return { busy: f.reduce((a, b) => a + b, 0) - idle, total: f.reduce((a, b) => a + b, 0) };
};
const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
};
const ask = (child, msg, key) =>
  new Promise((resolve) => {
    const on = (m) => {
      if (m && key in m) {
        child.off("message", on);
        resolve(m);
      }
    };
    child.on("message", on);
    if (msg) child.send(msg);
  });

async function startBackend() {
  const proc = inNetns(process.execPath, [here("./servers.mjs"), String(PORTS), CHECK], {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  const [line] = await once(proc.stdout, "data");
  return { proc, ports: JSON.parse(String(line)).ports };
}

function findHaproxy() {
  for (const p of ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]) if (existsSync(p)) return p;
  try {
    return execFileSync("sh", ["-c", "command -v haproxy"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A peer: started, then measured from `mark()` to `report()`, then stopped. */
async function startLbkit(ports, script = "./checker.mjs", extra = []) {
  const args = [];
  if (CPU_PROF) args.push("--cpu-prof", "--cpu-prof-dir", CPU_PROF);
  const proc = inNetns(
    process.execPath,
    [...args, here(script), CHECK, String(TARGETS), String(INTER), JSON.stringify(ports), ...extra],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  await ask(proc, undefined, "ready");
  return {
    proc,
    mark: () => ask(proc, "mark", "marked"),
    report: async () => {
      const r = await ask(proc, "report", "lastDurations");
      return {
        durations: r.lastDurations,
        failed: r.failed,
        eventLoopDelayMs: r.eventLoopDelayMs,
        rssMiB: r.rssMiB,
      };
    },
    stop: async () => {
      const exited = once(proc, "exit");
      proc.send("stop");
      await exited;
    },
  };
}

async function startHaproxy(ports, round) {
  const haproxy = findHaproxy();
  if (!haproxy) throw new Error("haproxy is not installed (scripts/system-deps.sh installs it)");
  const sock = join(dir, `haproxy-${round}.sock`);
  const cfg = join(dir, `haproxy-${round}.cfg`);
  const servers = Array.from(
    { length: TARGETS },
    (_, i) => `  server t${i} 127.0.0.1:${ports[i % ports.length]}${CHECK === "http" ? ` check` : " check"}`,
  );
  writeFileSync(
    cfg,
    [
      "global",
      "  nbthread 1",
      "  maxconn 2000", // checks do not count; the fd limit must hold maxconn × 2 plus one per server
      `  stats socket ${sock} mode 600 level admin`,
      "defaults",
      `  mode ${CHECK === "http" ? "http" : "tcp"}`,
      "  timeout connect 1s",
      "  timeout client 1s",
      "  timeout server 1s",
      `  timeout check ${INTER}`,
      "backend be",
      ...(CHECK === "http" ? ["  option httpchk GET /health"] : []),
      `  default-server inter ${INTER} rise 2 fall 3`,
      ...servers,
      "",
    ].join("\n"),
  );
  const proc = inNetns(haproxy, ["-f", cfg, "-db", "-q"], { stdio: ["ignore", "ignore", "inherit"] });
  const end = performance.now() + 20_000;
  while (!existsSync(sock)) {
    if (proc.exitCode !== null || performance.now() > end) throw new Error("haproxy did not start");
    await sleep(20);
  }
  const stat = () =>
    new Promise((resolve, reject) => {
      let data = "";
      const c = net.connect(sock, () => c.write("show stat\n"));
      c.on("data", (d) => {
        data += d;
      });
      c.on("end", () => resolve(data));
      c.on("error", reject);
    });
  return {
    proc,
    mark: async () => {},
    report: async () => {
      const lines = String(await stat())
        .trim()
        .split("\n");
      const head = lines[0].replace(/^# /, "").split(",");
      const col = (n) => head.indexOf(n);
      const rows = lines.slice(1).map((l) => l.split(","));
      const srv = rows.filter((f) => f[col("type")] === "2");
      return {
        durations: srv.map((f) => Number(f[col("check_duration")]) || 0),
        failed: srv.filter((f) => f[col("status")] !== "UP").length,
        eventLoopDelayMs: undefined,
        rssMiB: Math.round(
          (Number(readFileSync(`/proc/${proc.pid}/statm`, "utf8").split(" ")[1]) * 4) / 1024,
        ),
      };
    },
    stop: async () => {
      const exited = once(proc, "exit");
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

async function measure(peer, round) {
  const backend = await startBackend();
  const p =
    peer === "lbkit"
      ? await startLbkit(backend.ports)
      : peer === "node-floor" || peer === "node-wrap"
        ? await startLbkit(backend.ports, "./floor.mjs", [peer === "node-wrap" ? "wrap" : "net"])
        : await startHaproxy(backend.ports, round);
  try {
    await sleep(INTER * 2); // the first checks spread over one interval; then steady state
    await p.mark();
    const count = async () =>
      CHECK === "tcp" ? activeOpens(p.proc.pid) : (await ask(backend.proc, "count", "accepts")).accepts;
    const count0 = await count();
    const cpu0 = procCpu(p.proc.pid);
    const backend0 = procCpu(backend.proc.pid);
    const m0 = machine();
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const count1 = await count();
    const cpu = procCpu(p.proc.pid) - cpu0;
    const wall = (performance.now() - t0) / 1000;
    const backendCpu = procCpu(backend.proc.pid) - backend0;
    const m1 = machine();
    const r = await p.report();
    const checksPerSecond = (count1 - count0) / wall;
    return {
      peer,
      round,
      check: CHECK,
      targets: TARGETS,
      inter: INTER,
      seconds: SECONDS,
      listeners: backend.ports.length,
      checksPerSecond: Math.round(checksPerSecond),
      expectedPerSecond: Math.round((TARGETS * 1000) / INTER),
      cpuPercentOfOneCore: Number(((cpu / wall) * 100).toFixed(1)),
      cpuPerCheckUs: Math.round((cpu * 1e6) / Math.max(1, count1 - count0)),
      checkDurationMs: { p50: quantile(r.durations, 0.5), p99: quantile(r.durations, 0.99) },
      eventLoopDelayMs: r.eventLoopDelayMs,
      failed: r.failed,
      rssMiB: r.rssMiB,
      backendCpuPercentOfOneCore: Number(((backendCpu / wall) * 100).toFixed(1)),
      machineBusyPercent: Number((((m1.busy - m0.busy) / (m1.total - m0.total)) * 100).toFixed(1)),
      loadavg: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
      node: process.version,
    };
  } finally {
    await p.stop();
    backend.proc.kill("SIGTERM");
    await once(backend.proc, "exit");
  }
}

const results = [];
ip("netns", "add", NETNS);
try {
  ip("-n", NETNS, "link", "set", "lo", "up");
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? PEERS : [...PEERS].reverse();
    for (const peer of order) {
      const r = await measure(peer, round);
      console.log(JSON.stringify(r));
      results.push(r);
    }
  }
} finally {
  dropNetns();
  rmSync(dir, { recursive: true, force: true });
}
const out = arg("json", undefined);
if (out) writeFileSync(out, JSON.stringify(results));
