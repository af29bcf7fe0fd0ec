#!/usr/bin/env node
// The guides' "HAProxy as MySQL (read) load balancing", rebuilt with lbkit: @lbkit/proxy in TCP mode,
// `balance leastconn` over three real MariaDB servers, each checked with mysqlCheck (HAProxy's
// `option mysql-check user haproxy`). Each database and the load balancer run in their own network namespace
// on a bridge (the lab of test/lab, @lbkit/lab); a client namespace runs real queries (`SELECT @@server_id`,
// one connection each, with the `mariadb` CLI from Debian) through the VIP while db2 is stopped and
// restarted: the check takes db2 out within fall × inter, queries keep succeeding on db1 and db3 (a connection
// refused by db2 before that is retried on another server), and db2 comes back after rise × inter.
// Needs root, iproute2 and Debian's mariadb-server + mariadb-client (scripts/system-deps.sh); `pnpm build` first.
// Bounded: about 20 s (--inter 1000); everything it creates is removed on exit, Ctrl-C included.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { cli } from "../cli.mjs";

const values = cli(
  `
usage: node examples/mysql-read/index.mjs [--inter ms] [--rise n] [--fall n] [--json]
MySQL read load balancing: @lbkit/proxy (L4, leastconn) over three MariaDB servers checked with mysqlCheck,
each in its own network namespace; a client queries the VIP while db2 stops and restarts (~20 s).
Needs root, iproute2, mariadb-server and mariadb-client (scripts/system-deps.sh); run \`pnpm build\` first.
  --inter ms   check interval (default 1000)
  --rise n     successful checks to come back up (default 2)
  --fall n     failed checks to go down (default 3)
  --json       print the summary as one JSON line at the end, and nothing else
  -h, --help   this text`,
  {
    inter: { type: "string", default: "1000" },
    rise: { type: "string", default: "2" },
    fall: { type: "string", default: "3" },
    json: { type: "boolean", default: false },
  },
);
const inter = Number(values.inter);
const rise = Number(values.rise);
const fall = Number(values.fall);
for (const [k, n, min] of [
  ["inter", inter, 100],
  ["rise", rise, 1],
  ["fall", fall, 1],
]) {
  if (!Number.isInteger(n) || n < min) {
    console.error(`mysql-read: --${k} ${values[k]} must be an integer >= ${min}`);
    process.exit(2);
  }
}
if (process.getuid?.() !== 0) {
  console.error("mysql-read: needs root (network namespaces); see --help");
  process.exit(2);
}

const LB_SCRIPT = fileURLToPath(new URL("./lb.mjs", import.meta.url));
const VIP = "198.18.0.100";
const DBS = [
  { id: "db1", address: "198.18.0.21", serverId: 1 },
  { id: "db2", address: "198.18.0.22", serverId: 2 },
  { id: "db3", address: "198.18.0.23", serverId: 3 },
];
const HOSTS = [["lb", "198.18.0.10"], ["client", "198.18.0.50"], ...DBS.map((d) => [d.id, d.address])];
const t0 = Date.now();
const now = () => Date.now() - t0;
const stamp = () => `+${(now() / 1000).toFixed(2).padStart(6)}s`;
const log = (line) => {
  if (!values.json) console.log(`${stamp()}  ${line}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ── ending: however it ends, every process it started is stopped by pid and the lab destroyed ──
const procs = new Set();
const dir = mkdtempSync(join(tmpdir(), "lbkit-mysql-read-"));
let labPromise;
let lab;
let stopping;
function stop(code) {
  stopping ??= (async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    const built = await labPromise?.catch(() => undefined);
    await built?.destroy();
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  })();
  return stopping;
}
process.on("SIGINT", () => void stop(130));
process.on("SIGTERM", () => void stop(143));
process.on("SIGHUP", () => void stop(129));
setTimeout(() => {
  console.error("mysql-read: did not finish in 120 s; cleaning up");
  void stop(1);
}, 120_000).unref();

// ── the lab (test/lab, @lbkit/lab): a bridge and one namespace per host, the VIP on the lb's eth0 ──
async function buildLab() {
  const { createLab } = await import("@lbkit/lab");
  labPromise = createLab({ nodes: HOSTS.map(([name, address]) => ({ name, ipv4: `${address}/24` })) });
  lab = await labPromise;
  await lab.exec("lb", ["ip", "addr", "add", `${VIP}/24`, "dev", "eth0"]);
}

function spawnIn(name, argv) {
  const p = spawn("ip", ["netns", "exec", lab.node(name).ns, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  procs.add(p);
  p.once("exit", () => procs.delete(p));
  let out = "";
  p.stdout.on("data", (d) => (out += d));
  p.stderr.on("data", (d) => (out += d));
  p.output = () => out;
  return p;
}

// ── MariaDB: one initialised data directory, copied for each server ──
function initData() {
  const template = join(dir, "template");
  execFileSync(
    "mariadb-install-db",
    [
      "--no-defaults",
      `--datadir=${template}`,
      "--user=root",
      "--skip-test-db",
      "--auth-root-authentication-method=normal",
    ],
    { stdio: "ignore" },
  );
  for (const db of DBS) cpSync(template, join(dir, db.id), { recursive: true });
}

const sockOf = (db) => join(dir, `${db.id}.sock`);
async function startDb(db) {
  const p = spawnIn(db.id, [
    "mariadbd",
    "--no-defaults",
    `--datadir=${join(dir, db.id)}`,
    "--user=root",
    `--socket=${sockOf(db)}`,
    `--bind-address=${db.address}`,
    "--port=3306",
    `--server-id=${db.serverId}`,
    `--pid-file=${join(dir, `${db.id}.pid`)}`,
    "--skip-name-resolve",
    "--skip-log-bin",
    "--innodb-buffer-pool-size=16M",
  ]);
  db.proc = p;
  const end = Date.now() + 30_000;
  while (!p.output().includes("ready for connections")) {
    if (p.exitCode !== null || Date.now() > end) throw new Error(`${db.id} did not start:\n${p.output()}`);
    await sleep(50);
  }
}
function stopDb(db) {
  const p = db.proc;
  return new Promise((r) => {
    if (p.exitCode !== null) return r();
    p.once("exit", r);
    p.kill("SIGTERM"); // mariadbd's own clean shutdown; `ip netns exec` has exec'd it, so this is its pid
  });
}
function sql(db, statement) {
  execFileSync("mariadb", ["--no-defaults", "-S", sockOf(db), "-uroot", "-e", statement]);
}

// ── the client: one query per connection, through the VIP ──
const results = [];
let querying = true;
function query() {
  const t = now();
  return new Promise((resolve) => {
    const p = spawnIn("client", [
      "mariadb",
      "--no-defaults",
      "-h",
      VIP,
      "-P",
      "3306",
      "-u",
      "app",
      "-papp",
      "--connect-timeout=3",
      "-N",
      "-B",
      "-e",
      "SELECT @@server_id, SLEEP(0.2)",
    ]);
    p.once("exit", (code) => {
      const out = p.output().trim();
      const serverId = code === 0 ? Number(out.split(/\s+/)[0]) : undefined;
      results.push({ t, end: now(), ok: code === 0, serverId, error: code === 0 ? undefined : out });
      resolve();
    });
  });
}
async function clientLoop() {
  const inFlight = new Set();
  while (querying) {
    const q = query();
    inFlight.add(q);
    q.then(() => inFlight.delete(q));
    await sleep(100);
  }
  await Promise.all(inFlight);
}

// ── the run ──
const events = [];
async function main() {
  log(`building the lab: lb ${VIP} (VIP), client, ${DBS.map((d) => `${d.id} ${d.address}`).join(", ")}`);
  await buildLab();
  log(`namespaces ${lab.id}-*`);
  initData();
  await Promise.all(DBS.map(startDb));
  for (const db of DBS) {
    sql(db, "CREATE USER 'haproxy'@'198.18.0.%'; CREATE USER 'app'@'198.18.0.%' IDENTIFIED BY 'app'");
  }
  log("three MariaDB servers ready; users haproxy (the check, no password) and app (the client)");

  const lbConfig = {
    bind: `${VIP}:3306`,
    servers: DBS.map(({ id, address }) => ({ id, address })),
    inter,
    rise,
    fall,
  };
  const lb = spawnIn("lb", [process.execPath, LB_SCRIPT, "--config", JSON.stringify(lbConfig)]);
  const listening = new Promise((resolve, reject) => {
    lb.once("exit", () => reject(new Error(`the load balancer exited:\n${lb.output()}`)));
    createInterface({ input: lb.stdout }).on("line", (line) => {
      let e;
      try {
        e = JSON.parse(line);
      } catch {
        return log(`lb: ${line}`);
      }
      e.at = now();
      if (e.ev === "listening") resolve();
      if (e.ev === "change") {
        events.push(e);
        log(`proxy: ${e.id} ${e.from} → ${e.to} (${e.reason})`);
      }
      if (e.ev === "error") log(`proxy error: ${e.message}`);
    });
  });
  await listening;
  log(`proxy listening on ${VIP}:3306, leastconn, mysqlCheck inter ${inter} rise ${rise} fall ${fall}`);
  const waitFor = async (pred, ms) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) return false;
      await sleep(20);
    }
    return true;
  };
  const upNow = (id) => {
    const last = events.filter((e) => e.id === id).at(-1);
    return last === undefined || last.to === "up";
  };

  const client = clientLoop();
  log("client: one connection per query (SELECT @@server_id, SLEEP(0.2)) every 100 ms");
  await sleep(3000);

  const db2 = DBS[1];
  const stoppedAt = now();
  log("stopping db2 (SIGTERM)");
  await stopDb(db2);
  const wentDown = await waitFor(() => !upNow("db2"), (fall + 2) * inter + 5000);
  const downAt = wentDown ? events.filter((e) => e.id === "db2" && e.to === "down").at(-1).at : undefined;
  log(wentDown ? `db2 marked down ${downAt - stoppedAt} ms after the stop` : "db2 was NOT marked down");
  await sleep(2000);

  const restartAt = now();
  log("restarting db2");
  await startDb(db2);
  const startedAt = now();
  const cameUp = await waitFor(() => upNow("db2"), (rise + 2) * inter + 5000);
  const upAt = cameUp ? events.filter((e) => e.id === "db2" && e.to === "up").at(-1).at : undefined;
  log(cameUp ? `db2 back up ${upAt - startedAt} ms after it was ready` : "db2 did NOT come back");
  await sleep(3000);
  querying = false;
  await client;

  lb.kill("SIGTERM");
  await Promise.all(DBS.map(stopDb));

  const by = (from, to) => results.filter((r) => r.t >= from && r.t < to);
  const count = (rs) =>
    Object.fromEntries(DBS.map((d) => [d.id, rs.filter((r) => r.serverId === d.serverId).length]));
  const failed = results.filter((r) => !r.ok);
  // a query already running on db2 when it shut down is cut; every connection opened after the stop must succeed
  const inFlightAtStop = (r) => r.t < stoppedAt && r.end >= stoppedAt;
  const summary = {
    inter,
    rise,
    fall,
    queries: results.length,
    failed: failed.length,
    failedInFlightAtStop: failed.filter(inFlightAtStop).length,
    failedOther: failed.filter((r) => !inFlightAtStop(r)).length,
    errors: [...new Set(failed.map((r) => r.error))].slice(0, 5),
    downAfterMs: downAt === undefined ? null : downAt - stoppedAt,
    upAfterMs: upAt === undefined ? null : upAt - startedAt,
    restartTookMs: startedAt - restartAt,
    before: count(by(0, stoppedAt)),
    whileDown: count(by(downAt ?? stoppedAt, restartAt)),
    afterUp: count(by(upAt ?? Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)),
    db2Events: events.filter((e) => e.id === "db2").map(({ from, to, reason }) => ({ from, to, reason })),
  };
  if (values.json) console.log(JSON.stringify(summary));
  else {
    log(
      `queries: ${summary.queries}, failed: ${summary.failed} (${summary.failedInFlightAtStop} running on db2 when it shut down, ${summary.failedOther} other)`,
    );
    log(
      `answered by server — before the stop ${JSON.stringify(summary.before)}, while db2 was down ${JSON.stringify(summary.whileDown)}, after it came back ${JSON.stringify(summary.afterUp)}`,
    );
  }
}

main()
  .then(() => stop(0))
  .catch((err) => {
    console.error(`mysql-read: ${err.stack ?? err}`);
    return stop(1);
  });
