// Runs the health-check bench configurations (each in its own run.mjs process: lbkit and HAProxy interleaved,
// several rounds) and writes the table between <!-- healthcheck --> markers in bench/README.md.
// Usage: node healthcheck/bench.mjs [--seconds 15] [--rounds 3] [--from run-output.log (re-render only)]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeSection } from "../lib/readme-section.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const seconds = arg("seconds", "15");
const rounds = arg("rounds", "3");
const configs = [
  { check: "http", targets: 1_000 },
  { check: "http", targets: 10_000 },
  { check: "tcp", targets: 1_000 },
  { check: "tcp", targets: 10_000 },
];
const results = [];
const from = arg("from", undefined);
if (from) {
  // re-render from a run's output (run.mjs prints one JSON result per line)
  for (const line of readFileSync(from, "utf8").split("\n"))
    if (line.startsWith("{")) results.push(JSON.parse(line));
} else {
  const dir = mkdtempSync(join(tmpdir(), "lbkit-hc-bench-"));
  try {
    for (const [i, c] of configs.entries()) {
      const out = join(dir, `${i}.json`);
      console.log(
        `healthcheck bench: ${c.check} × ${c.targets}, lbkit, HAProxy, bare net.connect, bare TCP handle, ${rounds} rounds of ${seconds} s`,
      );
      execFileSync(
        process.execPath,
        [
          fileURLToPath(new URL("./run.mjs", import.meta.url)),
          ...["--check", c.check, "--targets", String(c.targets), "--inter", "1000"],
          ...["--seconds", seconds, "--rounds", rounds, "--json", out],
          ...["--peers", "lbkit,haproxy,node-floor,node-wrap"],
        ],
        { stdio: ["ignore", "inherit", "inherit"] },
      );
      results.push(...JSON.parse(readFileSync(out, "utf8")));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n) => Math.round(n).toLocaleString("en-US");
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const span = (xs, f = (x) => x.toFixed(2)) =>
  `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const rows = [];
const ratioRows = [];
const verdicts = [];
for (const c of configs) {
  const mine = results.filter((r) => r.check === c.check && r.targets === c.targets);
  for (const peer of ["lbkit", "haproxy", "node-floor", "node-wrap"]) {
    const rs = mine.filter((r) => r.peer === peer);
    if (!rs.length) continue;
    const eld = rs[0].eventLoopDelayMs
      ? span(
          rs.map((r) => r.eventLoopDelayMs.p99),
          (x) => `${x.toFixed(1)} ms`,
        )
      : "—";
    rows.push(
      `| ${c.check} | ${fmt(c.targets)} | ${{ lbkit: "lbkit", haproxy: "HAProxy 2.6", "node-floor": "bare net.connect", "node-wrap": "bare TCP handle" }[peer]} | ` +
        `${span(
          rs.map((r) => r.checksPerSecond),
          fmt,
        )} / ${fmt(rs[0].expectedPerSecond)} | ` +
        `${span(
          rs.map((r) => r.cpuPercentOfOneCore),
          (x) => `${x.toFixed(1)}%`,
        )} | ${span(
          rs.map((r) => r.cpuPerCheckUs),
          (x) => `${Math.round(x)} µs`,
        )} | ` +
        `${peer.startsWith("node-") ? "—" : `${median(rs.map((r) => r.checkDurationMs.p50)).toFixed(1)} / ${median(rs.map((r) => r.checkDurationMs.p99)).toFixed(1)} ms`} | ` +
        `${eld} | ${median(rs.map((r) => r.rssMiB))} MiB | ${median(rs.map((r) => r.machineBusyPercent)).toFixed(0)}% |`,
    );
  }
  // same-run ratios: lbkit ÷ HAProxy within each round
  const byRound = new Map();
  for (const r of mine) byRound.set(r.round, { ...byRound.get(r.round), [r.peer]: r });
  const pairs = [...byRound.values()].filter((p) => p.lbkit && p.haproxy);
  if (pairs.length) {
    const ratio = (f, other = "haproxy") =>
      span(pairs.filter((p) => p[other]).map((p) => f(p.lbkit) / Math.max(1e-9, f(p[other]))));
    const floor = pairs.some((p) => p["node-floor"]) ? ratio((r) => r.cpuPerCheckUs, "node-floor") : "—";
    const wrap = pairs.some((p) => p["node-wrap"]) ? ratio((r) => r.cpuPerCheckUs, "node-wrap") : "—";
    const cpuRatio = median(
      pairs.map((p) => p.lbkit.cpuPerCheckUs / Math.max(1e-9, p.haproxy.cpuPerCheckUs)),
    );
    const lb = pairs.map((p) => p.lbkit);
    const kept = median(lb.map((r) => r.checksPerSecond / r.expectedPerSecond));
    const keptHa = median(pairs.map((p) => p.haproxy.checksPerSecond / p.haproxy.expectedPerSecond));
    const eldP99 = median(lb.map((r) => r.eventLoopDelayMs.p99));
    verdicts.push(
      `${c.check} × ${fmt(c.targets)}: CPU per check ${cpuRatio.toFixed(2)} × HAProxy's (target ≤ 1.5: ${cpuRatio <= 1.5 ? "met" : "not met"})` +
        (c.targets >= 10_000
          ? `; ${(100 * kept).toFixed(0)} % of the schedule kept (HAProxy ${(100 * keptHa).toFixed(0)} %; target ≥ 98 %: ${kept >= 0.98 ? "met" : "not met"}), event-loop p99 ${eldP99.toFixed(1)} ms (target < 20 ms: ${eldP99 < 20 ? "met" : "not met"})`
          : ""),
    );
    ratioRows.push(
      `| ${c.check} | ${fmt(c.targets)} | ${ratio((r) => r.checksPerSecond)} | ${ratio((r) => r.cpuPercentOfOneCore)} | ` +
        `${ratio((r) => r.cpuPerCheckUs)} | ${ratio((r) => Math.max(0.5, r.checkDurationMs.p50))} | ${floor} | ${wrap} | ${pairs.length} |`,
    );
  }
}
const cpu = cpus()[0]?.model ?? "unknown CPU";
/** Median over configurations and rounds of `peer`'s CPU per check ÷ the `floor` peer's (bare net.connect). */
const vsFloor = (peer, floor = "node-floor") => {
  const xs = [];
  for (const r of results.filter((x) => x.peer === peer)) {
    const f = results.find(
      (x) => x.peer === floor && x.round === r.round && x.check === r.check && x.targets === r.targets,
    );
    if (f) xs.push(r.cpuPerCheckUs / f.cpuPerCheckUs);
  }
  return xs.length
    ? `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`
    : "—";
};
const range = (xs) =>
  Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}–${Math.max(...xs)}`;
const roundsText = range(
  configs
    .map((c) =>
      Math.max(...results.filter((r) => r.check === c.check && r.targets === c.targets).map((r) => r.round)),
    )
    .filter(Number.isFinite),
);
const secondsText = range(results.map((r) => r.seconds));
writeSection(
  "healthcheck",
  `## @lbkit/healthcheck against HAProxy

Regenerate: \`pnpm build && pnpm --filter @lbkit/bench bench:healthcheck\` (as root: each run gets a network namespace; about ${Math.ceil((configs.length * Number(rounds) * 4 * (Number(seconds) + 5)) / 60)} min). Measured ${new Date().toISOString().slice(0, 10)} on
${cpu} (${cpus().length} cores, shared with other work — see the machine column), Node ${results[0]?.node}, HAProxy 2.6.

Each configuration runs four checkers one after the other, ${roundsText} rounds, the order alternating, each alone in a
network namespace of its own with a fresh backend process with the same ${results[0]?.listeners} loopback listeners (HTTP: \`200 ok\` and close; TCP: accept and close):
HAProxy 2.6 (\`nbthread 1\`, \`check inter 1000 rise 2 fall 3\`, \`timeout check 1000\`, \`option httpchk GET /health\` for
http); lbkit, a \`HealthChecker\` with the same schedule (\`inter 1000 rise 2 fall 3\`, \`timeout = inter\`, concurrency
2000) in a process of its own; and two floors, the same connections made with nothing else (no scheduler, rise/fall,
timeouts or events): *bare net.connect*, a \`net.Socket\` each, and *bare TCP handle*, libuv's TCP handle driven directly
as lbkit's checks now connect (\`bench/healthcheck/floor.mjs\`).
After two intervals of warm-up each run measures ${secondsText} s. All are counted the same way: *checks/s* is connections the
backend accepted (http) or the namespace's kernel TCP active opens (tcp: a connect check may be closed before the
backend accepts it); *CPU* is the checker process's utime + stime from /proc (% of one core); *CPU per check* the one
divided by the other. *Check duration* is each target's last check at the end of the window (HAProxy's
\`check_duration\` from \`show stat\`, whole ms; lbkit's \`check\` event), connect to verdict, so it includes time spent
waiting for the event loop. *Event-loop p99* is lbkit's \`monitorEventLoopDelay\` (20 ms sampling, so that the sampler
adds nothing to the CPU compared; net of the period). Figures are the median (min–max) over the rounds.

| check | targets | checker | checks/s (of expected) | CPU | CPU per check | check duration p50 / p99 | event-loop p99 | RSS | machine busy |
|---|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}

Same-run ratios, lbkit ÷ HAProxy within each round (median, min–max):

| check | targets | checks/s | CPU | CPU per check | check duration p50 | CPU per check, lbkit ÷ bare net.connect | lbkit ÷ bare TCP handle | rounds |
|---|---|---|---|---|---|---|---|---|
${ratioRows.join("\n")}

Against the targets of issue 16, in this run: ${verdicts.join("; ")}. Machine load during the run (1-minute load average
${range(results.map((r) => Number(r.loadavg.split(" ")[0])))} over the runs, *machine busy* column) is from other work sharing the two cores, so every peer got less CPU than it
asked for; the absolute rates and durations are the machine's, and only the same-round ratios compare the checkers.

Where lbkit's time goes (\`--cpu-prof\` of the checker at 10,000 targets, \`node healthcheck/run.mjs --peers lbkit
--cpu-prof <dir>\`): most of it is the kernel's connect, write and close on loopback, reached from JavaScript; lbkit's own
code (scheduler, rise/fall, the HTTP reader, events) and garbage collection are the rest. A \`net.Socket\` per check
(socket and stream state, callbacks) cost more than the system calls themselves, so plain checks to an IP address
connect over libuv's TCP handle directly, as \`net\` does inside (\`checkTransport()\` in @lbkit/healthcheck; \`net.Socket\`
remains for TLS, host names, and a Node.js without the binding). Per check, lbkit costs ${vsFloor("lbkit", "node-wrap")} × the bare
TCP handle, ${vsFloor("lbkit")} × bare net.connect, and HAProxy ${vsFloor("haproxy", "node-wrap")} × the bare TCP handle (median,
min–max over configurations and rounds). Plain tcp checks are quiet, as HAProxy's (\`quietConnects()\`): TCP_QUICKACK
off and a zero linger, from a small addon, so the handshake's last ACK is never sent, the close is a RST and the
backend accepts nothing; the bare TCP handle and bare net.connect peers complete every handshake.`,
);
console.log("wrote the healthcheck section of bench/README.md");
