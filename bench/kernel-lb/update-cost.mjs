// What a change of the real-server set costs the kernel-lb director, at 10, 1,000 and 10,000 real servers:
// programming the whole table, and one weight change (recompute + one nft transaction), for wrr and sh.
// Needs root: it programs nftables in a network namespace of its own (no traffic is sent), deleted on exit.
// Usage: node bench/kernel-lb/update-cost.mjs [--quick]   (writes the kernel-lb section of bench/README.md)
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { Pool } from "@lbkit/balancer";
import { KernelDirector, NftRunner } from "@lbkit/kernel-lb";
import { writeSection } from "../lib/readme-section.mjs";

const quick = process.argv.includes("--quick");
const load0 = os.loadavg()[0];
const ns = `lbk-bench-${process.pid}-${randomBytes(3).toString("hex")}`;
const cleanup = () => {
  try {
    execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  } catch {}
};
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));
execFileSync("ip", ["netns", "add", ns]);

const address = (i) => `198.18.${(i >> 8) & 0xff}.${i & 0xff || 1}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];
const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);

const rows = [];
for (const scheduler of ["wrr", "sh"]) {
  for (const n of [10, 1000, 10_000]) {
    const pool = new Pool({
      servers: Array.from({ length: n }, (_, i) => ({
        id: `r${i}`,
        address: address(i + 256),
        weight: 1 + (i % 256),
      })),
    });
    const nft = new NftRunner({ command: ["ip", "netns", "exec", ns, "nft"] });
    const director = new KernelDirector({
      table: "lbk_bench",
      nft,
      services: [
        { id: "web", vip: "198.18.0.100", port: 80, scheduler, pool, buckets: n > 1000 ? 65536 : 4096 },
      ],
    });
    let nftMs = 0;
    director.on("sync", (e) => {
      nftMs = e.ms;
    });
    let t0 = performance.now();
    await director.start();
    const build = performance.now() - t0;
    const changes = quick ? 20 : 100;
    const total = [];
    const kernel = [];
    for (let i = 0; i < changes; i++) {
      const id = `r${(i * 7919) % n}`;
      pool.setWeight(id, pool.get(id).weight === 0 ? 1 + (i % 256) : 0);
      t0 = performance.now();
      await director.sync();
      total.push(performance.now() - t0);
      kernel.push(nftMs);
    }
    await director.stop();
    await nft.stop();
    rows.push({ scheduler, n, build, change: median(total), changeP99: p99(total), kernel: median(kernel) });
    console.log(JSON.stringify(rows.at(-1)));
  }
}

const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
const body = `## @lbkit/kernel-lb

Regenerate: \`pnpm build && node bench/kernel-lb/update-cost.mjs\` (as root; about a minute). Measured
${new Date().toISOString().slice(0, 10)} on ${cpu} (${os.cpus().length} cores), Node ${process.version}, nft ${execFileSync("nft", ["--version"]).toString().trim()}; machine load average ${load0.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after (2 cores shared with other work).

One virtual service, real-server weights 1..256. *Program* is \`start()\`: the whole table in one transaction.
*Change* is one \`setWeight\` (to 0 and back, alternately) then \`sync()\`: recomputing the service's slot table and one
nft transaction — the first change moves the slots into the service's named map, every later one deletes and adds only
the map elements whose target changed (plus the target chain that comes or goes) — median and p99 over
${quick ? 20 : 100} changes; *nft* is the part spent in nft. \`wrr\` tables hold at most 4096 slots (one at least per real server); \`sh\` tables 4096 buckets, 65,536 at 10,000 real
servers. The rest of a change is Node recomputing the slot table (the consistent-hash ring for \`sh\`). Before the
named maps and the cheap end-of-transaction marker (every change rewrote the whole inline map, and \`list tables\`
after each transaction made nft fetch its whole cache), the same bench on a loaded machine (load average not recorded) gave a change of 17 ms,
0.6 s and 2.4 s (\`wrr\`) and 0.24 s, 8.5 s and 9.6 s (\`sh\`) at 10, 1,000 and 10,000 real servers.

| scheduler | real servers | program | change (median) | change (p99) | of which nft |
|---|---|---|---|---|---|
${rows.map((r) => `| \`${r.scheduler}\` | ${r.n.toLocaleString("en")} | ${fmt(r.build)} | ${fmt(r.change)} | ${fmt(r.changeP99)} | ${fmt(r.kernel)} |`).join("\n")}
`;
if (!quick) writeSection("kernel-lb", body);
console.log(body);
