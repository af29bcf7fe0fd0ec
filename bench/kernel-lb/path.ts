// The kernel path against user-space L4 proxies, in one namespace lab: a client (wrk), a director holding the VIP,
// three real servers (nginx, a 3-byte body). On the director, in turn: @lbkit/kernel-lb (nftables DNAT with
// masquerade, LVS-NAT — Node only programs the maps), @lbkit/proxy L4 (`examples/proxy/index.mjs --mode tcp`) and
// haproxy 2.6 `mode tcp`. Rows: new connections per second (wrk with `Connection: close`: one connection per
// request) and requests per second on keep-alive connections, the director process's CPU (/proc/<pid>/stat) and the
// machine's softirq and system CPU (/proc/stat deltas: the kernel path's work is softirq, on whichever CPU carries
// the packet). Rounds interleave the three, the order rotated; × is against haproxy in the same round.
// Needs root (network namespaces, deleted on exit).
// Usage: pnpm build && pnpm --filter @lbkit/bench bench:kernel-lb-path [--quick]   (writes bench/README.md's section)
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { createLab, type LabProcess } from "../../test/lab/netns.js";
// @ts-expect-error -- a plain .mjs helper without typings
import { writeSection as writeSectionUntyped } from "../lib/readme-section.mjs";
import { haproxyConfig } from "../proxy/configs.js";
import { sampleTree } from "../proxy/procstat.js";
import { parseWrk, WRK_LUA } from "../proxy/wrk.js";

const writeSection = writeSectionUntyped as (name: string, body: string) => void;

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 1 : 3;
const SECONDS = quick ? 2 : 4;
const CONNECTIONS = 32;
const VIP = "198.18.0.100";
const REPO = new URL("../../", import.meta.url).pathname;
const SERVERS = ["r1", "r2", "r3"];
const PEERS = ["kernel-lb (nftables NAT)", "lbkit L4 proxy", "haproxy 2.6 tcp"] as const;
type Peer = (typeof PEERS)[number];

/** /proc/stat's first line, in jiffies: system, softirq, and every non-idle field summed. */
function cpuTotals(): { system: number; softirq: number; busy: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return { system, softirq, busy: user + nice + system + irq + softirq + steal };
}

const load0 = loadavg()[0]!;
const lab = await createLab({ nodes: ["client", "director", ...SERVERS] });
const cleanup = () => void lab.destroy();
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => cleanup());
try {
  await lab.exec("director", ["ip", "addr", "add", `${VIP}/24`, "dev", "eth0"]);
  await lab.exec("director", ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  // conntrack keeps a closed flow 120 s in TIME_WAIT by default; at thousands of new flows per second the client's
  // ports come round again within a run — short, as LVS directors tune it (applies to every director row alike)
  await lab.exec("director", ["sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_timeout_time_wait=5"]);
  for (const n of ["client", "director", ...SERVERS])
    await lab.exec(n, [
      "sysctl",
      "-qw",
      "net.ipv4.ip_local_port_range=10000 65000",
      "net.ipv4.tcp_tw_reuse=1",
    ]);
  for (const s of SERVERS) {
    const dir = join(lab.dir, s);
    const conf = join(lab.dir, `${s}.conf`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      conf,
      [
        "worker_processes 1; daemon off;",
        `pid ${dir}/nginx.pid; error_log stderr warn;`,
        "events { worker_connections 20000; }",
        "http { access_log off; keepalive_requests 10000000; keepalive_timeout 120s;",
        `  client_body_temp_path ${dir}/cb; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f;`,
        `  uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;`,
        `  server { listen 80; listen 8080; location / { return 200 "${s}"; } } }`,
        "",
      ].join("\n"),
    );
    lab.spawn(s, ["nginx", "-c", conf, "-p", dir]);
  }
  const lua = join(lab.dir, "wrk.lua");
  writeFileSync(lua, WRK_LUA);
  // The proxies reach the real servers on port 8080, the kernel path (which keeps the client's port when it
  // masquerades) on port 80: a real server's TIME_WAIT from a proxy's connection holds the proxy's TCP timestamps,
  // and a later SYN on the same 4-tuple carrying the client's (another clock offset) would be refused by PAWS.
  const backends = SERVERS.map((s) => ({ host: lab.node(s).ipv4, port: 8080 }));

  async function waitServing(p: LabProcess): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const { stdout } = await lab.exec("client", [
          "wrk",
          "-t1",
          "-c1",
          "-d1s",
          "-s",
          lua,
          `http://${VIP}/`,
        ]);
        if (parseWrk(stdout).requests > 0) return;
      } catch {}
      if (Date.now() > deadline)
        throw new Error(`bench: the VIP does not answer; the director's output:\n${p.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function startPeer(peer: Peer): Promise<LabProcess> {
    let p: LabProcess;
    if (peer === "haproxy 2.6 tcp") {
      const cfg = join(lab.dir, "haproxy.cfg");
      writeFileSync(cfg, haproxyConfig({ listen: { host: VIP, port: 80 }, backends, mode: "tcp" }));
      p = lab.spawn("director", ["haproxy", "-db", "-f", cfg]);
    } else if (peer === "lbkit L4 proxy") {
      p = lab.spawnNode("director", join(REPO, "examples/proxy/index.mjs"), [
        "--listen",
        `${VIP}:80`,
        "--backend",
        backends.map((b) => `${b.host}:${b.port}`).join(","),
        "--mode",
        "tcp",
      ]);
      await p.waitFor("listening", 15_000);
    } else {
      const services = [
        {
          id: "web",
          vip: VIP,
          port: 80,
          masquerade: true,
          scheduler: "rr",
          servers: SERVERS.map((id, i) => ({ id, address: backends[i]!.host, port: 80 })),
        },
      ];
      p = lab.spawn(
        "director",
        [
          process.execPath,
          join(REPO, "test/kernel-lb/director.mjs"),
          "--table",
          "lbk_bench",
          "--services",
          JSON.stringify(services),
        ],
        { stdin: true },
      );
      await p.waitFor('"ready"', 15_000);
    }
    await waitServing(p);
    return p;
  }

  async function stopPeer(peer: Peer, p: LabProcess): Promise<void> {
    if (peer === "kernel-lb (nftables NAT)") p.write('{"op":"stop"}\n');
    else p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await p.exited;
    clearTimeout(t);
  }

  interface Sample {
    rps: number;
    errors: number;
    procCpu: number;
    softirq: number;
    system: number;
    busy: number;
  }
  const results = new Map<string, Sample[]>(); // key `${peer}|${kind}`, one per round

  async function measure(p: LabProcess, close: boolean): Promise<Sample> {
    const args = ["wrk", "-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--timeout", "5s", "-s", lua];
    if (close) args.push("-H", "Connection: close");
    const proc0 = sampleTree(p.pid).cpuSeconds;
    const cpu0 = cpuTotals();
    const { stdout } = await lab.exec("client", [...args, `http://${VIP}/`], {
      timeoutMs: (SECONDS + 30) * 1000,
    });
    const cpu1 = cpuTotals();
    const proc1 = sampleTree(p.pid).cpuSeconds;
    const w = parseWrk(stdout);
    const pct = (jiffies: number) => jiffies / w.seconds; // jiffies are 1/100 s: per second of run = % of one core
    return {
      rps: w.rps,
      errors: w.errors,
      procCpu: ((proc1 - proc0) / w.seconds) * 100,
      softirq: pct(cpu1.softirq - cpu0.softirq),
      system: pct(cpu1.system - cpu0.system),
      busy: pct(cpu1.busy - cpu0.busy),
    };
  }

  for (let round = 0; round < ROUNDS; round++) {
    const order = PEERS.map((_, i) => PEERS[(i + round) % PEERS.length]!);
    for (const peer of order) {
      const p = await startPeer(peer);
      try {
        for (const close of [true, false]) {
          const s = await measure(p, close);
          const key = `${peer}|${close ? "conn" : "ka"}`;
          results.set(key, [...(results.get(key) ?? []), s]);
          console.error(
            `round ${round + 1} ${peer} ${close ? "new conns" : "keep-alive"}: ${s.rps.toFixed(0)}/s`,
          );
        }
      } finally {
        await stopPeer(peer, p);
      }
    }
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const k = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)} k` : n.toFixed(0));
  const ratio = (peer: Peer, kind: string) => {
    const mine = results.get(`${peer}|${kind}`)!;
    const ref = results.get(`haproxy 2.6 tcp|${kind}`)!;
    const rs = mine.map((s, i) => s.rps / ref[i]!.rps);
    return `${median(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})`;
  };
  const rows = PEERS.map((peer) => {
    const c = results.get(`${peer}|conn`)!;
    const a = results.get(`${peer}|ka`)!;
    const m = (xs: Sample[], f: (s: Sample) => number) => median(xs.map(f)).toFixed(0);
    const errors = [...c, ...a].reduce((x, s) => x + s.errors, 0);
    return `| ${peer} | ${k(median(c.map((s) => s.rps)))} | ${ratio(peer, "conn")} | ${k(median(a.map((s) => s.rps)))} | ${ratio(peer, "ka")} | ${m(c, (s) => s.procCpu)} / ${m(a, (s) => s.procCpu)} | ${m(c, (s) => s.softirq)} / ${m(a, (s) => s.softirq)} | ${m(c, (s) => s.system)} / ${m(a, (s) => s.system)} | ${m(c, (s) => (s.busy / s.rps) * 1e4)} / ${m(a, (s) => (s.busy / s.rps) * 1e4)} | ${errors} |`;
  });
  const load1 = loadavg()[0]!;
  const body = [
    "## @lbkit/kernel-lb — the kernel path against L4 proxies",
    "",
    "Regenerate: `pnpm build && pnpm --filter @lbkit/bench bench:kernel-lb-path` (`--quick`: one short round). Measured",
    `${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? "?"} (${availableParallelism()} cores, shared with other work), ` +
      `Node ${process.version}, ${ROUNDS} interleaved round${ROUNDS > 1 ? "s" : ""} of ${SECONDS} s per case; machine load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after.`,
    "",
    "Lab: client, director and three real servers (nginx, one worker, a 3-byte body; port 80 for the kernel path, 8080",
    "for the proxies, so that no row meets another's TIME_WAIT on the real servers) in network namespaces on one",
    `bridge; \`wrk -t1 -c${CONNECTIONS}\` from the client to the VIP. *new conn/s*: wrk with \`Connection: close\` (one TCP`,
    "connection per request); *keep-alive req/s*: persistent connections. The director runs, in turn, @lbkit/kernel-lb",
    "(nftables DNAT + masquerade, `rr`, conntrack TIME_WAIT 5 s; the Node process only programs the maps),",
    "`examples/proxy/index.mjs --mode tcp`",
    "(@lbkit/proxy L4, one process) and haproxy 2.6 `mode tcp` (`nbthread 1`). × is against haproxy in the same round,",
    "median (min–max). *process CPU*: the director process's utime+stime, % of one core (the kernel path's process is",
    "idle). Every packet of every namespace is processed by the same machine, so the kernel path's forwarding cost",
    "cannot be isolated per process: *softirq* and *system* are the whole machine's (/proc/stat), % of one core, and",
    "*machine CPU µs/req* the whole machine's non-idle CPU time per request (client, servers and director together;",
    "other work on the machine adds to it, and when the machine is saturated it is simply 2 cores ÷ the rate) — the",
    "same-run difference between rows is the director's share.",
    "",
    "| director | new conn/s | × | keep-alive req/s | × | process CPU % (new / ka) | softirq % (new / ka) | system % (new / ka) | machine CPU µs/req (new / ka) | errors |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "Reading it: the three directors share two cores with the client and the three real servers, so a row's rate is",
    "what the whole machine reaches with that director in the path, and the kernel path's cost shows as softirq and",
    "system time rather than in a process. New connections are where the kernel does most per request (conntrack",
    "entry, NAT, masquerade, on every connection's first packets); on keep-alive connections it only forwards.",
    ...(Math.max(load0, load1) > 2
      ? [
          "",
          `**The machine was busy with other work during this run** (load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on 2 cores): the ranges are wide;`,
          "take the medians as indications and re-run on a quiet machine for figures to quote.",
        ]
      : []),
  ].join("\n");
  console.log(body);
  if (!quick) writeSection("kernel-lb-path", body);
} finally {
  await lab.destroy();
}
