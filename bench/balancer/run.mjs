// Picks per second for every @lbkit/balancer algorithm at 10, 1,000 and 100,000 servers, and the cost of a
// weight change (setWeight plus the next pick, which is where lazily rebuilt tables pay). Writes the table
// into bench/README.md. Run: pnpm bench:balancer (from the repository root, after pnpm build).
import os from "node:os";
import { Pool } from "@lbkit/balancer";
import { Bench } from "tinybench";
import { writeSection } from "../lib/readme-section.mjs";
import { ALGORITHMS } from "./algorithms.mjs";

const SIZES = (process.env.BENCH_SIZES ?? "10,1000,100000").split(",").map(Number);
const TIME = Number(process.env.BENCH_TIME_MS ?? 400);

const LOAD_AWARE = new Set([
  "leastconn",
  "random(2)",
  "consistent hash-balance-factor 125",
  "peak-ewma",
  "first",
]);

const contexts = Array.from({ length: 4096 }, (_, i) => ({
  key: `user-${i}`,
  source: `198.18.${(i >> 8) & 255}.${i & 255}:${40000 + i}`,
  uri: `/app/${i % 97}/item/${i}?q=${i}`,
  headers: { host: `h${i % 1000}.example.com` },
}));

const fmt = (n) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : `${n.toFixed(1)}`;
const fmtTime = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(2)} µs`);

const rows = [];
for (const algorithm of ALGORITHMS) {
  const row = { algorithm, picks: [], change: [], build: [] };
  for (const n of SIZES) {
    const servers = Array.from({ length: n }, (_, i) => ({ id: `srv-${i}`, weight: 1 + (i % 4) }));
    const t0 = performance.now();
    const pool = new Pool({ algorithm, servers });
    pool.pick(contexts[0]); // lazily built tables (ring, Maglev) are built here
    row.build.push(performance.now() - t0);
    let i = 0;
    const bench = new Bench({ time: TIME, warmupTime: 100 });
    // a weight change can mean a full table rebuild (Maglev, map-based): few iterations are enough there
    const changes = new Bench({ time: TIME, iterations: 3, warmupIterations: 1, warmupTime: 0 });
    bench.add("pick", () => {
      const r = pool.pick(contexts[i++ & 4095]);
      // load-aware algorithms see realistic load: each pick is a request that starts and ends
      if (LOAD_AWARE.has(algorithm) && r.ok) pool.acquire(r.server).release({ ok: true, latencyMs: 5 });
    });
    let w = 0;
    changes.add("weight change", () => {
      const id = `srv-${(w * 7919) % n}`;
      pool.setWeight(id, 1 + (w++ % 4));
      pool.pick(contexts[w & 4095]);
    });
    await bench.run();
    await changes.run();
    const picks = bench.tasks[0].result;
    const change = changes.tasks[0].result;
    row.picks.push(picks.throughput?.mean ?? 1000 / picks.latency.mean);
    row.change.push(change.latency?.mean ?? change.mean);
    process.stderr.write(`${algorithm} @${n}: ${fmt(row.picks.at(-1))} picks/s\n`);
  }
  rows.push(row);
}

const head = `| algorithm | ${SIZES.map((n) => `picks/s @ ${n.toLocaleString("en")}`).join(" | ")} | ${SIZES.map(
  (n) => `weight change @ ${n.toLocaleString("en")}`,
).join(" | ")} | ${SIZES.map((n) => `build @ ${n.toLocaleString("en")}`).join(" | ")} |`;
const sep = `|${"---|".repeat(1 + 3 * SIZES.length)}`;
const body = rows
  .map(
    (r) =>
      `| \`${r.algorithm}\` | ${r.picks.map(fmt).join(" | ")} | ${r.change.map(fmtTime).join(" | ")} | ${r.build
        .map(fmtTime)
        .join(" | ")} |`,
  )
  .join("\n");

writeSection(
  "balancer",
  `## @lbkit/balancer

Regenerate: \`pnpm bench:balancer\` (after \`pnpm build\`). Measured ${new Date().toISOString().slice(0, 10)} on
${os.cpus()[0]?.model ?? "unknown CPU"} (${os.cpus().length} cores), Node ${process.version}, tinybench, ${TIME} ms per cell.
Servers have weights 1..4. Each pick uses a different request context (key, source, URI, Host) from a set of 4096.
Load-aware algorithms (leastconn, first, random(2), bounded load, peak-ewma) acquire and release a lease per pick,
so their figure includes that bookkeeping. *Weight change* is one \`setWeight\` plus the next pick (a Maglev
table being replaced advances one bounded slice there; see the scale table below). *Build* is construction
(which completes every table) plus the first pick.

${head}
${sep}
${body}`,
);
console.log(`${head}\n${sep}\n${body}`);
