// 10,000 health-check targets on loopback listeners, each checked every second, for a bounded time.
// Reports the checker's CPU share (process.cpuUsage) and event-loop delay (monitorEventLoopDelay).
// Usage: node healthcheck/run.mjs [--targets 10000] [--inter 1000] [--seconds 20] [--check http|tcp] [--ports 100]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { HealthChecker, httpCheck, tcpCheck } from "@lbkit/healthcheck";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const TARGETS = Number(arg("targets", 10_000));
const INTER = Number(arg("inter", 1000));
const SECONDS = Number(arg("seconds", 20));
const CHECK = arg("check", "http");
const PORTS = Number(arg("ports", 100));
const CONCURRENCY = Number(arg("concurrency", 2000));

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
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
};

const backends = spawn(
  process.execPath,
  [fileURLToPath(new URL("./servers.mjs", import.meta.url)), String(PORTS), CHECK],
  {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  },
);
const [line] = await once(backends.stdout, "data");
const { ports } = JSON.parse(String(line));

const hc = new HealthChecker({ concurrency: CONCURRENCY });
let checks = 0;
let failed = 0;
let changes = 0;
const durations = [];
let measuring = false;
hc.on("check", (e) => {
  if (!measuring) return;
  checks++;
  if (e.result.status === "down") failed++;
  durations.push(e.duration);
});
hc.on("change", () => {
  changes++;
});
for (let i = 0; i < TARGETS; i++) {
  const port = ports[i % ports.length];
  const check =
    CHECK === "tcp"
      ? tcpCheck({ host: "127.0.0.1", port })
      : httpCheck({ host: "127.0.0.1", port, path: `/health/${i}` });
  hc.add({ id: `t${i}`, check, inter: INTER, timeout: INTER, rise: 2, fall: 3, initState: "fully-up" });
}
hc.start();

// warm up over one interval (the first checks spread across it), then measure
await new Promise((r) => setTimeout(r, INTER * 2));
const ELD_RESOLUTION_MS = 1;
const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
eld.enable();
measuring = true;
const cpu0 = process.cpuUsage();
const backend0 = procCpu(backends.pid);
const machine0 = machine();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const backendCpu = procCpu(backends.pid) - backend0;
const machine1 = machine();
const loadavg = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
measuring = false;
eld.disable();
await hc.stop();
backends.kill("SIGTERM");

durations.sort((a, b) => a - b);
const q = (p) => durations[Math.min(durations.length - 1, Math.floor(p * durations.length))] ?? 0;
// the histogram records the whole sampling period; subtract it to get the delay
const ms = (ns) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS).toFixed(1);
const result = {
  check: CHECK,
  targets: TARGETS,
  inter: INTER,
  seconds: SECONDS,
  listeners: ports.length,
  checksPerSecond: Math.round(checks / (wall / 1000)),
  expectedPerSecond: Math.round((TARGETS * 1000) / INTER),
  failed,
  stateChanges: changes,
  cpuPercentOfOneCore: Number((((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(1)),
  cpuUserPercent: Number(((cpu.user / 1000 / wall) * 100).toFixed(1)),
  cpuSystemPercent: Number(((cpu.system / 1000 / wall) * 100).toFixed(1)),
  eventLoopDelayMs: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) },
  checkDurationMs: { p50: q(0.5).toFixed(1), p99: q(0.99).toFixed(1) },
  rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  concurrency: CONCURRENCY,
  backendCpuPercentOfOneCore: Number(((backendCpu / (wall / 1000)) * 100).toFixed(1)),
  machineBusyPercent: Number(
    (((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * 100).toFixed(1),
  ),
  loadavg,
  node: process.version,
};
console.log(JSON.stringify(result, null, 2));
const out = arg("json", undefined);
if (out) (await import("node:fs")).writeFileSync(out, JSON.stringify(result));
