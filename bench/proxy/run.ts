// pnpm bench:proxy [--quick] [--rounds N] [--seconds S] [--settle S] [--steady S] [--no-churn] [--no-write]
// The proxy bench: wrk against the origin directly and through every peer, in one interleaved run of several
// rounds (each round runs every peer once, order rotated), then the memory rows, then a connection-churn phase of
// the same shape. Writes the <!-- proxy --> section of bench/README.md. CPU layout (2 cores): the proxy on CPU 0,
// wrk and the origin on CPU 1.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error -- a plain .mjs helper without typings
import { writeSection as writeSectionUntyped } from "../lib/readme-section.mjs";
import { type Addr, nginxOriginConfig } from "./configs";
import { h2loadArgs, parseH2load } from "./h2load";
import { streamOnce, withIdleConnections } from "./load";
import { NODE_PEER_FLAGS, PEERS, type PeerDef, type PeerId, type RunningPeer, startPeer } from "./peers";
import { killAllOnExit, run, type Spawned, start, waitListening } from "./procs";
import { sampleTree } from "./procstat";
import {
  type Case,
  cpuVerdict,
  type MemoryRow,
  median,
  originVerdict,
  renderAfterIdle,
  renderChurnTable,
  renderFirstContact,
  renderMemoryTable,
  renderThroughputTable,
  type Sample,
} from "./report";
import { roundOrders } from "./schedule";
import { parseWrk, WRK_LUA, wrkArgs } from "./wrk";

const argv = process.argv.slice(2);
const flag = (n: string) => argv.includes(`--${n}`);
const opt = (n: string, d: number) => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const QUICK = flag("quick");
const ROUNDS = opt("rounds", QUICK ? 2 : 10);
const SECONDS = opt("seconds", QUICK ? 2 : 3);
const WARM_RUNS = opt("warm-runs", QUICK ? 1 : 3);
/** Seconds of the small-body settle run before each measured one (0: none; wrk takes whole seconds). */
const SETTLE = opt("settle", 1);
if (!Number.isInteger(SETTLE) || SETTLE < 0)
  throw new Error(
    `bench: --settle ${SETTLE} must be a whole number of seconds ≥ 0 (wrk's -d takes whole seconds)`,
  );
/**
 * Seconds of a further small-body run between the settle run and the measured one (0: none; none without a
 * settle run either). After an idle spell V8 judges a Node peer's allocation rate low (it averages over at least
 * 5 s of history, the idle spell included) for several scavenges, and at each of them hands one semi-space's
 * pages back to the kernel and faults them in again: 6–10 ms a scavenge instead of 0.6–0.8. That is about one scavenge per 13 s of idleness at 16 MiB
 * semi-spaces: after the ~100 s a peer sat idle here, about seven over 2–3 s of load, which a 1 s settle run left
 * inside the measured run (with the steady runs a peer sits idle ~130 s: about ten, over 3–4 s).
 */
const STEADY = opt("steady", QUICK ? 1 : 3);
if (!Number.isInteger(STEADY) || STEADY < 0)
  throw new Error(
    `bench: --steady ${STEADY} must be a whole number of seconds ≥ 0 (wrk's -d takes whole seconds)`,
  );
/** A connection-churn phase (`Connection: close`) for the plain HTTP rows after the rest (`--no-churn`: none). */
const CHURN = !flag("no-churn");
const STREAM_BYTES = QUICK ? 2 ** 28 : 2 ** 30;
// Open-file limit: an L4 peer holds two fds per idle connection, so the idle row opens as many as the hard
// limit allows (10,000 when it is ≥ 20,500) and scales its figure to 10k.
const NOFILE = Math.min(
  65_536,
  Number(execFileSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim()) || 1024,
);
const IDLE = opt("idle", QUICK ? 1000 : Math.min(10_000, Math.floor((NOFILE - 500) / 2 / 250) * 250));
const PORT_BASE = opt("port-base", 28_100);
const PROXY_CPU = "0";
const LOAD_CPU = "1";
const SMALL_BODY = 100;
const BULK_BYTES = 10 * 2 ** 20;
const host = "127.0.0.1";

const writeSection = writeSectionUntyped as (name: string, body: string) => void;
killAllOnExit();
const dir = mkdtempSync(join(tmpdir(), "lbkit-proxybench-"));
const log = (...a: unknown[]) => console.error("[bench:proxy]", ...a);

chmodSync(dir, 0o755); // nginx workers run as nobody
const www = join(dir, "www");
mkdirSync(www);
const smallBody = `${"x".repeat(SMALL_BODY - 1)}\n`;
writeFileSync(join(www, "small"), smallBody);
writeFileSync(join(www, "bulk"), Buffer.alloc(BULK_BYTES, 0x61));
writeFileSync(join(www, "huge"), "");
truncateSync(join(www, "huge"), STREAM_BYTES); // sparse: no disk used, served by sendfile
const script = join(dir, "report.lua");
writeFileSync(script, WRK_LUA);

const originAddr: Addr = { host, port: PORT_BASE };
const running = new Map<PeerId, RunningPeer>();
let origin: Spawned | undefined;

/** The TLS and h2 rows' certificate (ECDSA P-256, TLS 1.3 with one suite pinned on every peer). */
const CIPHERSUITE = "TLS_AES_128_GCM_SHA256";
function certificate() {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
    ].concat(["-days", "2", "-subj", "/CN=bench.test", "-addext", "subjectAltName=DNS:bench.test"]),
    { stdio: "ignore" },
  );
  const pem = join(dir, "cert+key.pem");
  writeFileSync(pem, readFileSync(cert, "utf8") + readFileSync(key, "utf8"));
  return { cert, key, pem, ciphersuites: CIPHERSUITE };
}

async function wrk(
  a: Addr,
  path: string,
  connections: number,
  seconds: number,
  scheme = "http",
  headers: readonly string[] = [],
) {
  const out = await run(
    "wrk",
    wrkArgs({
      url: `${scheme}://${a.host}:${a.port}${path}`,
      threads: 1,
      connections,
      seconds,
      script,
      headers,
    }),
    { cpus: LOAD_CPU, timeoutMs: (seconds + 15) * 1000 },
  );
  return parseWrk(out);
}

/**
 * h2load over TLS 1.3 (ALPN h2): small bodies with 50 connections × 10 streams, bulk with 4 × 1; a request count
 * sized to take about `seconds` at a few thousand small requests (or ~60 MiB) per second.
 */
async function h2load(a: Addr, path: string, connections: number, streams: number, seconds: number) {
  const requests = path === "/small" ? 4000 * seconds : 6 * seconds;
  const out = await run(
    "h2load",
    h2loadArgs({ url: `https://${a.host}:${a.port}${path}`, clients: connections, streams, requests }),
    { cpus: LOAD_CPU, timeoutMs: (seconds * 20 + 30) * 1000 },
  );
  const h = parseH2load(out);
  return { ...h, p50Ms: Number.NaN, p99Ms: Number.NaN };
}

/** One load run against a peer, with the client its row is about. */
function load(peer: PeerDef, a: Addr, c: Case, seconds: number) {
  if (c === "churn") return wrk(a, "/small", 50, seconds, "http", ["Connection: close"]);
  const path = c === "small" ? "/small" : "/bulk";
  const connections = c === "small" ? 50 : 4;
  if (peer.client === "h2") return h2load(a, path, connections, c === "small" ? 10 : 1, seconds);
  return wrk(a, path, connections, seconds, peer.client === "https" ? "https" : "http");
}

/** Churned in the churn phase: the plain HTTP rows (the TLS and h2 rows are about their protocol). */
const churned = (peer: PeerDef): boolean => CHURN && peer.client === undefined;

/** Where a peer's load goes: its listener, or the origin itself for "direct". */
function addrOf(peer: PeerDef): Addr {
  return running.get(peer.id)?.addr ?? originAddr;
}

async function measure(peer: PeerDef, round: number, c: Case): Promise<Sample> {
  const r = running.get(peer.id);
  const a = addrOf(peer);
  const pid = r ? r.pid : origin!.pid;
  const p0 = sampleTree(pid);
  const o0 = sampleTree(origin!.pid);
  const t0 = performance.now();
  const w = await load(peer, a, c, SECONDS);
  const wall = (performance.now() - t0) / 1000;
  const p1 = sampleTree(pid);
  const o1 = sampleTree(origin!.pid);
  return {
    round,
    peer: peer.id,
    case: c,
    rps: w.rps,
    bytesPerSec: w.bytesPerSec,
    p50Ms: w.p50Ms,
    p99Ms: w.p99Ms,
    errors: w.errors,
    cpuPct: ((p1.cpuSeconds - p0.cpuSeconds) / wall) * 100,
    originCpuPct: ((o1.cpuSeconds - o0.cpuSeconds) / wall) * 100,
    rssBytes: p1.rssBytes,
  };
}

/** One measured run, logged. */
async function measured(p: PeerDef, round: number, c: Case): Promise<Sample> {
  const s = await measure(p, round, c);
  log(
    `round ${round + 1}/${ROUNDS} ${p.label} ${c}: ${s.rps.toFixed(0)} req/s, ${(s.bytesPerSec / 2 ** 20).toFixed(0)} MiB/s, p99 ${s.p99Ms.toFixed(2)} ms, cpu ${s.cpuPct.toFixed(0)}%, origin ${s.originCpuPct.toFixed(0)}%, errors ${s.errors}`,
  );
  return s;
}

/** Median of five RSS samples over one second (a Node peer's heap moves between single samples). */
async function steadyRss(pid: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    xs.push(sampleTree(pid).rssBytes);
    await new Promise((res) => setTimeout(res, 200));
  }
  return median(xs);
}

async function memoryRow(peer: PeerDef): Promise<MemoryRow> {
  const r = running.get(peer.id)!;
  const rss = () => sampleTree(r.pid).rssBytes;
  // idle connections first, from a quiet process; then the stream
  const idleBefore = await steadyRss(r.pid);
  const open = await withIdleConnections(r.addr, "/small", IDLE, () => steadyRss(r.pid));
  await new Promise((res) => setTimeout(res, 500));
  const before = await steadyRss(r.pid);
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 100);
  let s: { bytes: number; seconds: number };
  try {
    s = await streamOnce(r.addr, "/huge", STREAM_BYTES, 300_000);
  } finally {
    clearInterval(timer);
  }
  const stream = {
    before,
    peak,
    after: await steadyRss(r.pid),
    bytesPerSec: s.bytes / s.seconds,
    bytes: s.bytes,
  };
  return { label: peer.label, stream, idle: { connections: IDLE, before: idleBefore, open } };
}

/** A loud note when the machine was busy with other work (load average above its core count) during the run. */
function loadVerdict(before: number, after: number): string {
  const n = cpus().length;
  if (Math.max(before, after) <= n) return "";
  return `**Loaded machine:** the load average was ${before.toFixed(1)} before and ${after.toFixed(1)} after on ${n} cores, so every peer shared its pinned core with other work: req/s, latency and their ratios swing between rounds; CPU µs/req and its ratio are the figures that hold (rerun on a quiet machine for capacity figures). `;
}

async function main() {
  log(
    `dir ${dir}; ${ROUNDS} rounds × ${SECONDS} s; stream ${STREAM_BYTES / 2 ** 20} MiB; ${IDLE} idle conns`,
  );
  mkdirSync(join(dir, "origin"));
  const oconf = join(dir, "origin", "nginx.conf");
  writeFileSync(
    oconf,
    nginxOriginConfig({
      dir: join(dir, "origin"),
      listen: originAddr,
      root: www,
      fixed: { "/small": smallBody },
    }),
  );
  origin = start("nginx", ["-p", join(dir, "origin"), "-c", oconf, "-e", "stderr"], {
    cpus: LOAD_CPU,
    nofile: NOFILE,
  });
  await waitListening(host, originAddr.port, origin);

  const active = PEERS.filter((p) => !p.missing());
  const tls = certificate();
  for (const [i, p] of active.entries()) {
    if (p.id === "direct") continue;
    const listen = { host, port: PORT_BASE + 1 + i };
    running.set(
      p.id,
      await startPeer(p.id, {
        dir,
        listen,
        backends: [originAddr],
        cpus: PROXY_CPU,
        nofile: NOFILE,
        maxconn: Math.floor((NOFILE - 200) / 2),
        tls,
      }),
    );
    log(`started ${p.label} on ${listen.port}`);
  }
  // Warm-up, the same for every peer: WARM_RUNS pairs of a small-body run of 2 s and a bulk run of 1 s, the
  // alternation the rounds then repeat. A JIT-compiled proxy reaches its steady state only after it has seen
  // connections open and close, and small and bulk responses follow each other, a few times (code first run at
  // a close or on the bulk path is compiled then, and the functions around it recompiled); haproxy and nginx
  // need none of it but get the same. The first run's p99 is kept: what a freshly started process shows.
  const firstContact = new Map<string, number>();
  for (const p of active) {
    const a = addrOf(p);
    for (let i = 0; i < WARM_RUNS; i++) {
      const w = await load(p, a, "small", 2);
      if (i === 0) firstContact.set(p.id, w.p99Ms);
      await load(p, a, "bulk", 1);
    }
  }

  const samples: Sample[] = [];
  const load0 = loadavg()[0]!;
  const t0 = performance.now();
  // Each peer sat idle while the others ran: a settle run first (its p99 is the *after idle* figure), so the
  // measured small-body run sees the peer under steady load.
  const afterIdle = new Map<string, number[]>();
  for (const [round, order] of roundOrders(active, ROUNDS).entries()) {
    for (const p of order) {
      if (SETTLE > 0) {
        const w = await load(p, addrOf(p), "small", SETTLE);
        const xs = afterIdle.get(p.id) ?? [];
        xs[round] = w.p99Ms;
        afterIdle.set(p.id, xs);
      }
      if (SETTLE > 0 && STEADY > 0) await load(p, addrOf(p), "small", STEADY);
      for (const c of ["small", "bulk"] as const) samples.push(await measured(p, round, c));
    }
  }
  const loadSeconds = (performance.now() - t0) / 1000;
  const load1 = loadavg()[0]!;

  const memory: MemoryRow[] = [];
  for (const p of PEERS) {
    if (p.id === "direct" || p.client !== undefined) continue; // the TLS and h2 rows are load rows only
    const missing = p.missing();
    if (missing) {
      memory.push({ label: p.label, missing });
      continue;
    }
    try {
      memory.push(await memoryRow(p));
    } catch (e) {
      memory.push({ label: p.label, missing: `failed: ${(e as Error).message.split("\n")[0]}` });
    }
    log(`memory ${p.label} done`);
  }
  // Connection churn, a phase of its own, last: after the keep-alive rounds and the memory rows (a Node peer's
  // garbage collector works harder for a while around a spell of churn, which is not what those rows are about).
  // A 2 s churn run per peer, then rounds as above, each measured run after a churn settle run.
  const churnPeers = active.filter(churned);
  for (const p of churnPeers) await load(p, addrOf(p), "churn", 2);
  const churnOrders = churnPeers.length > 0 ? roundOrders(churnPeers, ROUNDS) : [];
  for (const [round, order] of churnOrders.entries()) {
    for (const p of order) {
      if (SETTLE > 0) await load(p, addrOf(p), "churn", SETTLE);
      samples.push(await measured(p, round, "churn"));
    }
  }

  const rows = PEERS.map((p) => ({ id: p.id, label: p.label, baseline: p.baseline, missing: p.missing() }));
  const body = [
    "## Proxies: lbkit against haproxy, nginx and Node proxies",
    "",
    `Regenerate: \`pnpm build && pnpm bench:proxy\` (\`--quick\` for a short smoke run). Measured ${new Date().toISOString().slice(0, 10)} on`,
    `${cpus()[0]?.model.trim() ?? "?"} (${cpus().length} cores, shared with other work), Node ${process.version}, ${QUICK ? "**quick mode**, " : ""}${ROUNDS} interleaved rounds of ${SECONDS} s per case (${loadSeconds.toFixed(0)} s of load; machine load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after).`,
    "",
    "Layout: each proxy is pinned to CPU 0 (`taskset`), wrk and the origin to CPU 1. The origin is nginx (one worker,",
    `keep-alive without a request cap) answering the ${SMALL_BODY}-byte body from memory (\`return 200\`: half the CPU of`,
    "serving it as a file, so the origin limits the proxies less) and the 10 MiB body from a file (sendfile), chosen",
    "over a Node origin so that the origin costs little CPU per request; whether it limits any row shows in the",
    "*origin direct* row and in the origin's CPU share below. Small body:",
    "`wrk -t1 -c50` on `/small`; bulk: `wrk -t1 -c4` on the 10 MiB `/bulk`. Each round runs every peer once, the",
    "order rotated by one each round; each × column is the peer's figure divided by haproxy's *in the same round*",
    "(haproxy http for L7 peers, haproxy tcp for L4), median and (min–max) over rounds — for latency, lower is",
    "better. CPU is the proxy process tree's utime+stime over the run (/proc/<pid>/stat), % of one core, and CPU",
    "µs/req that time ÷ the small-body requests served (what a request costs the proxy; it holds up when a shared",
    "machine makes req/s swing, which the ratios of the other columns do not always); RSS the",
    "largest after any run. Peers: haproxy `nbthread 1`, `http-reuse always`; nginx one worker, upstream",
    "`keepalive 64`, HTTP/1.1 upstream, `proxy_max_temp_file_size 0`; node-http-proxy and @fastify/http-proxy",
    "with keep-alive upstream pools; lbkit runs `examples/proxy/index.mjs --mode http|tcp` (L4 with its native relay,",
    "which takes a keep-alive session over at its second request; a churned one-request session stays in JavaScript).",
    "Every Node peer runs with",
    `\`${NODE_PEER_FLAGS.join(" ")}\` (a young generation sized for a proxy's allocation rate; the proxy README's advice).`,
    "",
    "Operator and protocol rows: *lbkit L7 with stats, metrics and access log on* is the same example with",
    "`--stats --log` (the stats page, an admin server with `/metrics` counting every transaction, and the JSON access",
    "log written to a file), and its × columns divide by *plain lbkit L7* in the same round (its overhead, not a",
    "comparison with haproxy; CPU µs/req × is the figure to read on a shared machine). *TLS termination*: wrk over HTTPS (keep-alive, so mostly record encryption, few",
    `handshakes) to lbkit (\`--tls-cert\`) and to haproxy (\`bind … ssl crt\`) with the same ECDSA P-256 certificate, TLS 1.3`,
    `only and the one suite ${CIPHERSUITE} on both. *h2 clients*: h2load over the same TLS with ALPN h2`,
    "(`-c 50 -m 10 -n <4,000 per second of a case>` on `/small`, `-c 4 -m 1 -n <6 per second>` on `/bulk`), lbkit",
    "(`--h2`, downgrading to HTTP/1.1 to the origin)",
    "against haproxy (`alpn h2`, HTTP/1.1 to the origin); h2load reports no latency percentiles, so those cells are",
    "empty. These rows have no memory row.",
    "",
    renderThroughputTable(rows, samples),
    "",
    ...(CHURN
      ? [
          "Connection churn, a phase of its own after the rounds above and the memory rows below: `wrk -t1 -c50 -H 'Connection: close'` on",
          "`/small`, so every request opens a new client connection and the peer closes it after the response (the",
          "close, and so TIME_WAIT, on the peer's side). L7 peers keep their origin connections alive; an L4 peer opens",
          "one origin connection per client connection. A 2 s churn run per peer first, then the same number of rounds,",
          `order rotated, each measured ${SECONDS} s run ${SETTLE > 0 ? `after a ${SETTLE} s churn settle run` : "with no settle run"}. conn/s equals req/s here; CPU µs/conn`,
          "is the peer's CPU ÷ connections served. Same-round ratios as above; the TLS and h2 rows are not churned.",
          "",
          renderChurnTable(rows, samples),
          "",
        ]
      : []),
    `Warm-up, before round 1, the same for every peer: ${WARM_RUNS} pairs of a small-body run of 2 s (each ends with wrk`,
    "closing its 50 connections) and a bulk run of 1 s, the alternation the rounds repeat. A Node peer reaches its",
    "steady state only after a few of them: code that first runs at a close or on the bulk path is compiled then, and",
    "the functions around it recompiled (the first small run after a bulk one pauses the most). *First contact*,",
    "the p99 of the first warm-up run against each freshly started peer (what a cold process shows; one sample, no",
    `ratio range): ${renderFirstContact(rows, firstContact)}.`,
    "",
    SETTLE > 0
      ? `Each measured small-body run follows a ${SETTLE} s small-body *settle* run against the same peer${STEADY > 0 ? ` and then a ${STEADY} s *steady* run` : ""}, so the rounds measure a peer under steady load. The settle run starts after the peer sat idle while the others ran (about ${Math.round((active.length - 1) * (2 * SECONDS + SETTLE + STEADY + 1))} s); its p99 is the *after idle* figure (median over rounds, and the median of its same-round ratios): ${renderAfterIdle(rows, afterIdle)}. A Node peer pays for idleness. V8 averages a process's allocation rate over at least 5 s of history, the idle spell included, and while that rate is low it hands one semi-space's pages back to the kernel at every scavenge, to fault them in again: about one such scavenge per 13 s of idleness at 16 MiB semi-spaces, 6–10 ms each instead of 0.6–0.8 (lbkit L7 after 90 s idle: six over the first 1.7 s of load, a p99 of 7–8 ms for the first two seconds), which the settle and steady runs are there to absorb. Some idle spells also bring V8's memory reducer, whose mark-compacts shrink the heap and after which V8 compiled the hot functions again (lbkit L7: 53 optimisations in the first 1.5 s of load, a p99 of 64 ms for the first second; the proxy README has the flag that stops it).`
      : "No settle runs (`--settle 0`): each measured small-body run starts right after the peer sat idle.",
    "",
    loadVerdict(load0, load1) +
      `${cpuVerdict(samples, rows)} ` +
      originVerdict(samples, rows) +
      " Origin CPU share during the small-body runs (CPU 1 also runs wrk): " +
      rows
        .filter((r) => !r.missing)
        .map((r) => {
          const xs = samples.filter((s) => s.peer === r.id && s.case === "small").map((s) => s.originCpuPct);
          return `${r.label} ${(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)).toFixed(0)}%`;
        })
        .join(", ") +
      ".",
    "",
    `Memory, per proxy after the load rounds: ${IDLE.toLocaleString("en")} idle keep-alive client connections opened on loopback`,
    "(each after one complete request; for L4 peers each also holds an origin connection), RSS before and with them",
    "open (median of five samples over 1 s; a Node peer's RSS also moves with its heap), then all closed; then",
    `${(STREAM_BYTES / 2 ** 30).toFixed(2)} GiB streamed through in one response to a raw client reading as fast as it can, RSS`,
    "sampled every 100 ms (peak) and after.",
    "",
    renderMemoryTable(memory),
  ].join("\n");
  console.log(body);
  if (!flag("no-write")) writeSection("proxy", body);
}

try {
  await main();
} finally {
  await Promise.all([...running.values()].map((r) => r.stop()));
  await origin?.stop();
  rmSync(dir, { recursive: true, force: true });
}
