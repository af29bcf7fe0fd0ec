// A live view of how each @lbkit/balancer algorithm spreads traffic over five servers, what a server failure
// does to it, and how slow start brings the server back. Simulated time, real Pool; ends by itself (~15 s).
//   node examples/balancer-live/index.mjs [--fast]
import { Pool } from "@lbkit/balancer";
import { cli } from "../cli.mjs";

const args = cli(
  `
usage: node examples/balancer-live/index.mjs [--fast]
How each @lbkit/balancer algorithm spreads traffic over five servers, what a server failure does to it, slow
start and backups. Simulated time, real Pool; about 15 s.
  --fast       no animation: print each phase's final frame (the default when stdout is not a terminal)
  -h, --help   this text`,
  { fast: { type: "boolean" } },
);
const fast = args.fast || !process.stdout.isTTY;
const FRAME_MS = fast ? 0 : 120; // wall-clock pause per frame
const TICK = 100; // simulated ms per frame
const RPS = 2000; // simulated requests per second

const SERVERS = [
  { id: "web-a", weight: 3, latency: 8 },
  { id: "web-b", weight: 2, latency: 10 },
  { id: "web-c", weight: 2, latency: 12 },
  { id: "web-d", weight: 1, latency: 30 },
  { id: "web-e", weight: 1, latency: 9, backup: true },
];
const ALGORITHMS = [
  "roundrobin",
  "leastconn",
  "random(2)",
  "source hash-type consistent",
  "maglev",
  "peak-ewma",
];

const clock = { t: 0, now: () => clock.t };
const sims = ALGORITHMS.map((algorithm) => ({
  algorithm,
  pool: new Pool({
    algorithm,
    clock,
    slowStart: 3_000,
    servers: SERVERS.map(({ id, weight, backup }) => ({ id, weight, backup })),
  }),
  inFlight: [],
  window: new Map(),
  owner: new Map(),
  moved: undefined,
}));

const clients = Array.from({ length: 5_000 }, (_, i) => `198.18.${i >> 8}.${i & 255}`);
const latencyOf = new Map(SERVERS.map((s) => [s.id, s.latency]));

function step(sim, requests) {
  for (let r = 0; r < requests; r++) {
    const source = clients[(Math.random() * clients.length) | 0];
    const res = sim.pool.pick({ source, key: source });
    if (!res.ok) continue;
    const id = res.server.id;
    sim.window.set(id, (sim.window.get(id) ?? 0) + 1);
    const lease = sim.pool.acquire(res.server);
    const latency = latencyOf.get(id) * (0.5 + Math.random());
    sim.inFlight.push({ lease, done: clock.t + latency, latency });
    sim.owner.set(source, id);
  }
  sim.inFlight = sim.inFlight.filter((f) => {
    if (f.done > clock.t) return true;
    f.lease.release({ ok: true, latencyMs: f.latency });
    return false;
  });
}

const tty = process.stdout.isTTY;
const red = (s) => (tty ? `\x1b[31m${s}\x1b[0m` : s);
const bold = (s) => (tty ? `\x1b[1m${s}\x1b[0m` : s);

const bar = (share, width = 22) => {
  const n = Math.round(share * width);
  return `${"█".repeat(n)}${"·".repeat(width - n)}`;
};

function render(title, note) {
  const lines = [`${bold(`lbkit balancer — ${title}`)}  t=${(clock.t / 1000).toFixed(1)}s   ${note}`, ""];
  lines.push(
    `${"".padEnd(30)}${SERVERS.map((s) => `${s.id}${s.backup ? "*" : ""} w${s.weight}`.padEnd(12)).join("")}`,
  );
  for (const sim of sims) {
    const total = [...sim.window.values()].reduce((a, b) => a + b, 0) || 1;
    const cells = SERVERS.map((s) => {
      const server = sim.pool.get(s.id);
      const share = (sim.window.get(s.id) ?? 0) / total;
      if (server.state !== "up") return `${red(server.state.toUpperCase().padEnd(11))} `;
      return `${(share * 100).toFixed(0).padStart(3)}% ${bar(share, 7)} `;
    });
    const moved = sim.moved === undefined ? "" : `  keys moved ${(sim.moved * 100).toFixed(1)}%`;
    lines.push(`${sim.algorithm.padEnd(30)}${cells.join("")}${moved}`);
  }
  lines.push(
    "",
    "* backup: used only when no primary is usable.  web-d is slow (30 ms): watch leastconn and peak-ewma.",
  );
  if (fast) console.log(lines.join("\n"), "\n");
  else {
    // redraw this phase's frame in place (cursor up over the rows drawn, clear below) — never the whole screen,
    // so what was printed before (the failover timeline) and each phase's last frame stay in the scrollback
    const up = drawnRows ? `\x1b[${drawnRows}F\x1b[J` : "";
    process.stdout.write(`${up}${lines.join("\n")}\n`);
    drawnRows = lines.reduce((n, l) => n + Math.max(1, Math.ceil(visible(l) / columns())), 0);
  }
}
let drawnRows = 0;
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colour escapes this file writes
const visible = (s) => [...s.replace(/\x1b\[[0-9;]*m/g, "")].length;
const columns = () => process.stdout.columns || 80;

async function phase(title, note, seconds, before) {
  before?.();
  if (drawnRows) process.stdout.write("\n");
  drawnRows = 0; // a new phase starts below the last frame of the previous one
  for (const sim of sims) sim.window = new Map(); // shares are counted over the phase so far
  const frames = Math.round((seconds * 1000) / TICK);
  for (let f = 0; f < frames; f++) {
    clock.t += TICK;
    for (const sim of sims) step(sim, (RPS * TICK) / 1000);
    if (!fast || f === frames - 1) render(title, note);
    if (FRAME_MS) await new Promise((r) => setTimeout(r, FRAME_MS));
  }
}

function snapshotOwners() {
  for (const sim of sims)
    sim.before = new Map(
      clients.map((c) => [c, sim.pool.candidates({ source: c, key: c }).next().value?.id]),
    );
}
function measureMoved() {
  for (const sim of sims) {
    if (!/source|maglev/.test(sim.algorithm)) continue;
    let moved = 0;
    for (const c of clients)
      if (sim.pool.candidates({ source: c, key: c }).next().value?.id !== sim.before.get(c)) moved++;
    sim.moved = moved / clients.length;
  }
}

// the cursor is hidden while animating: shown again however the view ends (Ctrl-C, SIGTERM, a closed pipe)
const showCursor = () => {
  if (!fast) process.stdout.write("\x1b[?25h");
};
for (const [sig, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
])
  process.on(sig, () => {
    showCursor();
    process.exit(code);
  });
process.stdout.on("error", () => process.exit(0)); // `… | head` closed the pipe: nothing left to show
if (!fast) process.stdout.write("\x1b[?25l");
try {
  await phase("steady state", "traffic spreads by weight", 3);
  await phase(
    "web-b fails",
    "its share moves to the others; consistent hashes move only web-b's clients",
    3,
    () => {
      snapshotOwners();
      for (const sim of sims) sim.pool.setState("web-b", "down");
      measureMoved();
    },
  );
  await phase("web-b recovers", "slow start ramps it back over 3 s", 4, () => {
    for (const sim of sims) {
      sim.pool.setState("web-b", "up");
      sim.moved = undefined;
    }
  });
  await phase("all primaries fail", "the backup web-e takes everything", 2, () => {
    for (const sim of sims) for (const s of SERVERS) if (!s.backup) sim.pool.setState(s.id, "maint");
  });
} finally {
  showCursor();
}
