// @lbkit/balancer at scale with real weights (1..256): for every algorithm at 1,000, 10,000 and 100,000 servers,
// the build (construction, which completes every table), the cost of a weight or state change, the latency of
// the first pick after it and the worst pick over the next picks (where tables being replaced advance a slice
// per pick), and memory (heap + array buffers after a forced GC, less the same before the pool was built).
// Each cell runs in its own child process (node --expose-gc) so cells do not share heaps.
// Run: pnpm --filter @lbkit/bench bench:balancer-scale (after pnpm build). BENCH_SCALE_SIZES=1000,10000 to limit.
import { execFileSync } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { writeSection } from "../lib/readme-section.mjs";
import { ALGORITHMS } from "./algorithms.mjs";

const CHANGES = 40; // weight and state changes per cell
const AFTER = 200; // picks timed after each change

if (process.argv[2] === "--cell") {
  const { Pool } = await import("@lbkit/balancer");
  const algorithm = process.argv[3];
  const n = Number(process.argv[4]);
  const ctx = (i) => ({
    key: `user-${i}`,
    source: `198.18.${(i >> 8) & 255}.${i & 255}:${40000 + (i & 8191)}`,
    uri: `/app/${i % 97}/item/${i}?q=${i}`,
    headers: { host: `h${i % 1000}.example.com` },
  });
  const weightOf = (i) => 1 + ((i * 7919) % 256);
  // CPU time of this process in ms (user + system): unlike wall time, not inflated when the shared machine
  // deschedules us (the run's load average is in the table's heading)
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const servers = Array.from({ length: n }, (_, i) => ({ id: `srv-${i}`, weight: weightOf(i) }));
  const mem = () => {
    global.gc();
    global.gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = mem();
  let t0 = performance.now();
  const pool = new Pool({ algorithm, servers });
  const build = performance.now() - t0;
  t0 = performance.now();
  pool.pick(ctx(0));
  const firstPick = performance.now() - t0;
  const memory = mem() - before;
  let i = 1;
  // steady state: the pick rate without changes
  t0 = performance.now();
  for (let k = 0; k < 20_000; k++) pool.pick(ctx(i++));
  const pickUs = ((performance.now() - t0) / 20_000) * 1000;
  const change = [];
  const first = [];
  const after = [];
  for (let c = 0; c < CHANGES; c++) {
    const id = `srv-${(c * 104729 + 17) % n}`;
    t0 = cpu();
    if (c % 2 === 0) pool.setWeight(id, 1 + ((c * 37) % 256));
    else pool.setState(id, c % 4 === 1 ? "down" : "up");
    change.push(cpu() - t0);
    for (let k = 0; k < AFTER; k++) {
      t0 = cpu();
      pool.pick(ctx(i++));
      const dt = cpu() - t0;
      if (k === 0) first.push(dt);
      after.push(dt);
    }
  }
  t0 = performance.now();
  pool.rebalance();
  const settle = performance.now() - t0;
  const quantile = (a, q) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * q))];
  const median = (a) => quantile(a, 0.5);
  const max = (a) => Math.max(...a);
  process.stdout.write(
    JSON.stringify({
      algorithm,
      n,
      build: build + firstPick,
      pickUs,
      changeMedian: median(change),
      changeMax: max(change),
      firstMedian: median(first),
      firstMax: max(first),
      afterP99: quantile(after, 0.99),
      afterMax: max(after),
      settle,
      memory,
    }),
  );
  process.exit(0);
}

const SIZES = (process.env.BENCH_SCALE_SIZES ?? "1000,10000,100000").split(",").map(Number);
const only = process.env.BENCH_SCALE_ALGORITHMS?.split(",");
const self = fileURLToPath(import.meta.url);
const rows = [];
for (const algorithm of only ?? ALGORITHMS) {
  for (const n of SIZES) {
    const out = execFileSync(process.execPath, ["--expose-gc", self, "--cell", algorithm, String(n)], {
      encoding: "utf8",
      timeout: 600_000,
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(out);
    rows.push(r);
    process.stderr.write(`${JSON.stringify(r)}\n`);
  }
}

const ms = (x) =>
  x >= 100 ? `${x.toFixed(0)} ms` : x >= 1 ? `${x.toFixed(1)} ms` : `${(x * 1000).toFixed(0)} µs`;
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const head =
  "| algorithm | servers | build | memory | pick | change (median / max) | first pick after a change (median / max) | picks after a change (p99 / max) | rebalance() after the run |";
const sep = `|${"---|".repeat(9)}`;
const body = rows
  .map(
    (r) =>
      `| \`${r.algorithm}\` | ${r.n.toLocaleString("en")} | ${ms(r.build)} | ${mib(r.memory)} | ${ms(r.pickUs / 1000)} | ${ms(r.changeMedian)} / ${ms(r.changeMax)} | ${ms(r.firstMedian)} / ${ms(r.firstMax)} | ${ms(r.afterP99)} / ${ms(r.afterMax)} | ${ms(r.settle)} |`,
  )
  .join("\n");
const text = `## @lbkit/balancer at scale, weights 1..256

Regenerate: \`pnpm --filter @lbkit/bench bench:balancer-scale\` (after \`pnpm build\`; about 10 minutes). Measured
${new Date().toISOString().slice(0, 10)} on ${os.cpus()[0]?.model ?? "unknown CPU"} (${os.cpus().length} cores, shared with other work: load average
${os.loadavg()[0].toFixed(1)} at the end), Node ${process.version}.
Server i has weight 1 + (i × 7919 mod 256). One child process per row (\`node --expose-gc\`). *Build* is
\`new Pool\` (which completes every table) plus the first pick. *Memory* is heap + array buffers after a forced GC,
less the same before the pool was built (the server objects included). *Pick* is the mean over 20,000 picks with
distinct contexts. Then ${CHANGES} changes, alternately a \`setWeight\` and a \`setState\` down/up of a server spread
over the pool, timed in CPU time (\`process.cpuUsage\`, µs resolution, so a pick below a few µs reads as 0 or
1 µs): *change* is the call itself, *first pick after a change* the next pick, *picks after a change*
all ${AFTER} picks after each change (a Maglev table, or a Ketama ring or jump table being re-sized, is replaced a
bounded slice per pick while the old one serves). *rebalance()* finishes whatever replacement is still under way
at the end. Maxima include garbage-collection pauses (the GC's helper threads count as this process's CPU).

${head}
${sep}
${body}`;
writeSection("balancer-scale", text);
console.log(text);
