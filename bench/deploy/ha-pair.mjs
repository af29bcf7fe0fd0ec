// Head to head, end to end: the lbkit ha-pair (examples/ha-pair/node.mjs) against the guides' haproxy 2.6 +
// keepalived 2.2 pair (examples/ha-pair/classic/), same lab, same web servers, same timers. For each scenario and
// each pair: a client in its own namespace sends 200 HTTP requests/s to the VIP for 11 s (each outcome and
// timestamp recorded); 3 s in, the event happens. Reports failed requests and the longest window without a
// successful response. Needs root. About 4.5 minutes.
//   node bench/deploy/ha-pair.mjs [--json out.json] [--readme] [--only crash,web-dies] [--pairs lbkit,classic]
//   node bench/deploy/ha-pair.mjs --from out.json --readme     (the table from an earlier run's results, no run)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { canUseNamespaces, createLab } from "../../examples/ha-pair/lab.mjs";
import { clientArgv, HOSTS, LBS, lbArgv, VIP, WEBS, webArgv } from "../../examples/ha-pair/topology.mjs";

const { values: o } = parseArgs({
  options: {
    json: { type: "string" },
    readme: { type: "boolean", default: false },
    only: { type: "string" },
    pairs: { type: "string", default: "lbkit,classic" },
    rate: { type: "string", default: "200" },
    from: { type: "string" },
  },
});
if (!o.from && !canUseNamespaces()) {
  console.error("bench/deploy: needs root and iproute2 (network namespaces)");
  process.exit(2);
}
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const EX = (f) => here(`../../examples/ha-pair/${f}`); // the classic configs
const RATE = Number(o.rate);
const WINDOW = 11_000;
const EVENT_AT = 3_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const scratch = mkdtempSync(join(tmpdir(), "lbk-deploy-"));
process.once("exit", () => rmSync(scratch, { recursive: true, force: true }));

// ── the two pairs: start a node, and the operations the scenarios need ──
const lbkit = {
  start(lab, n, { trackWeight = 2 } = {}) {
    const child = lab.spawn(n.name, lbArgv(n, [`--track-weight=${trackWeight}`]));
    child.stdout.resume();
    return { procs: [child], stopProxy: () => child.stdin.write("kill-proxy\n") };
  },
  gracefulStop: (node) => node.procs[0].kill("SIGTERM"),
  maintenance: (node) => node.procs[0].stdin.write("handover\n"),
  maintenanceNote:
    "`handover()` (priority-0 advert; the VIP stays until the peer is master), then a 1 s drain",
};
const classic = {
  start(lab, n, { trackWeight = 2 } = {}) {
    const dir = join(scratch, `${lab.tag}-${n.name}`);
    execFileSync("mkdir", ["-p", dir]);
    const cfg = readFileSync(EX("classic/haproxy.cfg"), "utf8").replace(/^\s*daemon\n/m, "");
    writeFileSync(join(dir, "haproxy.cfg"), cfg);
    const pidfile = join(dir, "haproxy.pid");
    // the guide's check_haproxy.sh is `pidof haproxy`, but namespaces share PIDs: check this node's haproxy
    writeFileSync(join(dir, "check.sh"), `#!/bin/sh\nkill -0 "$(cat ${pidfile})" 2>/dev/null\n`, {
      mode: 0o755,
    });
    const ka = readFileSync(EX(`classic/keepalived-${n.name}.conf`), "utf8")
      .replace("/etc/keepalived/check_haproxy.sh", join(dir, "check.sh"))
      .replace("weight 2", `weight ${trackWeight}`);
    writeFileSync(join(dir, "keepalived.conf"), `global_defs {\n  script_user root\n}\n${ka}`);
    const haproxy = lab.spawn(n.name, ["haproxy", "-db", "-f", join(dir, "haproxy.cfg")], {
      stdio: ["ignore", "ignore", "ignore"],
    });
    writeFileSync(pidfile, String(haproxy.pid));
    const keepalived = lab.spawn(
      n.name,
      ["keepalived", "-n", "-l", "-D", "-f", join(dir, "keepalived.conf")].concat([
        "-p",
        join(dir, "ka.pid"),
        "-r",
        join(dir, "vrrp.pid"),
        "--vrrp",
      ]),
      { stdio: ["ignore", "ignore", "ignore"] },
    );
    return { procs: [haproxy, keepalived], haproxy, keepalived, stopProxy: () => haproxy.kill("SIGKILL") };
  },
  // systemctl stop keepalived haproxy: SIGTERM to both
  gracefulStop: (node) => {
    node.keepalived.kill("SIGTERM");
    node.haproxy.kill("SIGTERM");
  },
  // the operator's usual procedure: `systemctl stop keepalived` on the master (priority-0 advert, VIP removed at
  // once), haproxy left running for the connections in flight
  maintenance: (node) => node.keepalived.kill("SIGTERM"),
  maintenanceNote:
    "`systemctl stop keepalived` on the master (priority-0 advert, VIP removed at once), haproxy left running",
};
const PAIRS = { lbkit, classic };

// ── scenarios: setup (which nodes run, options) and the event at 3 s ──
const SCENARIOS = [
  {
    id: "crash",
    what: "master crashes (SIGKILL + link down)",
    event: (lab) => {
      // link first, so that nothing (keepalived's VRRP child reacting to its parent's death) gets out
      lab.ip("lb1", "link", "set", "eth0", "down");
      lab.killAll("lb1");
    },
  },
  {
    id: "proxy-dies",
    what: "master's proxy dies, VRRP lives (guide's weight 2)",
    event: (_lab, nodes) => nodes.lb1.stopProxy(),
  },
  {
    id: "proxy-dies-w-6",
    what: "master's proxy dies, VRRP lives (track weight −6)",
    trackWeight: -6,
    event: (_lab, nodes) => nodes.lb1.stopProxy(),
  },
  {
    id: "graceful",
    what: "graceful stop of the master",
    event: (_l, nodes, pair) => pair.gracefulStop(nodes.lb1),
  },
  {
    id: "maintenance",
    what: "planned maintenance of the master",
    event: (_l, nodes, pair) => pair.maintenance(nodes.lb1),
  },
  {
    id: "web-dies",
    what: "a web server dies (web2, SIGKILL)",
    event: (_lab, _nodes, _pair, webs) => webs.web2.kill("SIGKILL"),
  },
  {
    id: "failback",
    what: "the master comes back (failback)",
    initiallyDown: true,
    event: (lab, nodes, pair, _webs, opts) => {
      nodes.lb1 = pair.start(lab, LBS[0], opts);
    },
  },
];

function holder(lab) {
  return LBS.filter((n) => lab.ip(n.name, "-4", "addr", "show", "dev", "eth0").includes(`${VIP}/`)).map(
    (n) => n.name,
  );
}
async function waitFor(pred, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return;
    await sleep(100);
  }
  throw new Error(`bench/deploy: timed out waiting for ${what}`);
}

async function run(pairName, sc) {
  const pair = PAIRS[pairName];
  const lab = createLab("lbkhb", HOSTS);
  try {
    const webs = {};
    await Promise.all(
      WEBS.map((w) => {
        const c = lab.spawn(w.name, webArgv(w));
        webs[w.name] = c;
        return new Promise((r) => createInterface({ input: c.stdout }).once("line", r));
      }),
    );
    const opts = { trackWeight: sc.trackWeight ?? 2 };
    const nodes = {};
    if (!sc.initiallyDown) nodes.lb1 = pair.start(lab, LBS[0], opts);
    nodes.lb2 = pair.start(lab, LBS[1], opts);
    const first = sc.initiallyDown ? "lb2" : "lb1";
    const master = LBS.find((n) => n.name === first).address;
    const dump = lab.spawn("br", ["tcpdump", "-l", "-n", "-i", "br0", `ip proto 112 and src ${master}`], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let onAdvert = () => {};
    createInterface({ input: dump.stdout }).on("line", () => onAdvert());
    const nextAdvertAfter = (ms) =>
      sleep(ms).then(
        () =>
          new Promise((r) => {
            onAdvert = () => {
              onAdvert = () => {};
              r();
            };
          }),
      );
    await waitFor(() => holder(lab).join() === first, 15_000, `${first} to hold the VIP`);
    await sleep(1000); // both pairs start with every server up; let the first checks land
    const client = lab.spawn("client", clientArgv(RATE, WINDOW / 1000, ["--records"]));
    const nextAdvert = nextAdvertAfter(EVENT_AT - 50);
    const done = new Promise((resolve) =>
      createInterface({ input: client.stdout }).on("line", (l) => {
        const e = JSON.parse(l);
        if (e.event === "records") resolve(e.records);
      }),
    );
    const t0 = Date.now();
    // same phase for both pairs: the event comes right after an advert of the master (a crash then costs the
    // whole Master_Down_Interval in both, rather than whatever part of it the advert timer left)
    await nextAdvert;
    const tEvent = Date.now();
    sc.event(lab, nodes, pair, webs, opts);
    const records = await done;
    return {
      pair: pairName,
      scenario: sc.id,
      ...metrics(records, t0, tEvent),
      holderAfter: holder(lab).join("+") || "nobody",
    };
  } finally {
    lab.destroy();
  }
}

/** failed requests, the longest window without a successful response (from the first request to the last) */
function metrics(records, t0, tEvent) {
  const sent = records.length;
  const failed = records.filter((r) => !r[2]).length;
  const ok = records
    .filter((r) => r[2])
    .map((r) => r[1])
    .sort((a, b) => a - b);
  let gap = 0;
  let prev = t0;
  for (const t of ok) {
    gap = Math.max(gap, t - prev);
    prev = t;
  }
  const end = Math.max(...records.map((r) => r[1]));
  gap = Math.max(gap, end - prev);
  const errors = {};
  for (const r of records) if (!r[2]) errors[r[5]] = (errors[r[5]] ?? 0) + 1;
  const firstFail = records.find((r) => !r[2])?.[0];
  return {
    sent,
    failed,
    longestGapMs: gap,
    errors,
    firstFailAfterEventMs: firstFail ? firstFail - tEvent : null,
  };
}

const only = o.only?.split(",");
const results = o.from ? JSON.parse(readFileSync(o.from, "utf8")) : [];
for (const sc of SCENARIOS.filter((s) => !o.from && (!only || only.includes(s.id)))) {
  for (const pairName of o.pairs.split(",")) {
    const r = await run(pairName, sc);
    results.push(r);
    console.log(
      `${sc.id.padEnd(15)} ${pairName.padEnd(8)} sent ${r.sent}  failed ${String(r.failed).padStart(4)}  longest gap ${String(r.longestGapMs).padStart(5)} ms  VIP after: ${r.holderAfter}  ${JSON.stringify(r.errors)}`,
    );
  }
}

const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} by \`node bench/deploy/ha-pair.mjs --readme\` (root; about 4.5 min): a client`,
  `sends ${RATE} HTTP requests/s (a fresh connection each, 1 s timeout) to the VIP for ${WINDOW / 1000} s; the event happens ${EVENT_AT / 1000} s in, right after one of the master's adverts`,
  "Same lab, same three web servers, same timers (advert 1 s, `inter 2000 rise 2 fall 3`, tracked check every 2 s).",
  `Planned maintenance — lbkit: ${lbkit.maintenanceNote}; classic: ${classic.maintenanceNote}.`,
  "Graceful stop — lbkit: SIGTERM to the node (a master hands over first); classic: SIGTERM to keepalived and haproxy.",
  "Proxy dies — lbkit: the node's proxy stops (the node resigns at once); classic: SIGKILL to haproxy (the tracked",
  "script notices within 2 s). Longest gap: the longest time without a successful response. Requests answered by",
  "a server marked down are not counted separately: the only server marked down here (web2) is dead.",
  "",
  "| scenario | lbkit failed | classic failed | lbkit longest gap | classic longest gap |",
  "|---|---|---|---|---|",
  ...SCENARIOS.filter((s) => results.some((r) => r.scenario === s.id)).map((s) => {
    const l = results.find((r) => r.scenario === s.id && r.pair === "lbkit");
    const c = results.find((r) => r.scenario === s.id && r.pair === "classic");
    const f = (r) => (r ? `${r.failed} / ${r.sent}` : "—");
    const g = (r) => (r ? `${r.longestGapMs} ms` : "—");
    return `| ${s.what} | ${f(l)} | ${f(c)} | ${g(l)} | ${g(c)} |`;
  }),
].join("\n");
console.log(`\n${table}`);
if (o.json) writeFileSync(o.json, JSON.stringify(results, null, 2));
if (o.readme) {
  const path = here("../README.md");
  const readme = readFileSync(path, "utf8");
  const section = `<!-- deploy -->\n## The ha-pair end to end: lbkit against haproxy + keepalived\n\n${table}\n<!-- /deploy -->`;
  const re = /<!-- deploy -->[\s\S]*<!-- \/deploy -->/;
  writeFileSync(path, re.test(readme) ? readme.replace(re, section) : `${readme.trimEnd()}\n\n${section}\n`);
}
