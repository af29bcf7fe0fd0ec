// Requests lost per scenario with N active balancers: the test/bgp-ecmp lab (FRR router with ECMP over a resilient
// next-hop group and BFD 100 ms × 3, three balancers each running @lbkit/proxy + gobgpd + a BgpSpeaker, three web
// servers) under the load of bench/deploy's ha-pair figures — 200 HTTP requests/s, a fresh connection each, 1 s
// timeout, for 11 s, the event 3 s in — so the two tables compare. Bounded: one run per scenario. Run:
// `pnpm --filter @lbkit/bench bench:bgp` as root (after `pnpm build`), with crash.bench.ts. Writes the
// <!-- bgp-loss --> section of bench/README.md, quoting the <!-- deploy --> section's lbkit VRRP figures.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Router, startBalancer, startEcmpLab, waitFor } from "../../test/bgp/lab.js";
import { type Lab, type LabProcess, requireRoot } from "../../test/lab/netns.js";
// @ts-expect-error -- a plain .mjs helper without typings
import { writeSection as writeSectionUntyped } from "../lib/readme-section.mjs";

const writeSection = writeSectionUntyped as (name: string, body: string) => void;
const pre = requireRoot(["ip", "gobgpd", "vtysh", "nft"]);
const VIP = "198.18.1.1";
const LBS = ["lb1", "lb2", "lb3"];
const WEBS = ["web1", "web2", "web3"];
const BFD = { tx: 100, rx: 100, mult: 3 };
const LOAD = { rate: 200, ms: 11_000, timeout: 1000 };
const EVENT_AT = 3000;
const RETURN_LOAD_MS = 30_000;
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

interface Reply {
  t: number;
  ok: boolean;
}
interface Row {
  scenario: string;
  vrrp: string;
  failed: number;
  total: number;
  gap: number;
  /** ms from the event to the router's next hops (FIB and resilient group) becoming `after` */
  route: number;
}

let lab: Lab;
let router: Router;
const nodes = new Map<string, LabProcess>();
const rows: Row[] = [];
const addr = (n: string) => lab.node(n).ipv4;
const nexthopsAre = (want: string[], timeoutMs = 60_000) =>
  waitFor(
    async () => {
      const hops = JSON.stringify(want.map(addr).sort());
      return (
        JSON.stringify(await router.nexthops(VIP)) === hops && JSON.stringify(router.resilientHops()) === hops
      );
    },
    timeoutMs,
    `next hops ${want.join(",")}`,
  );
const startNode = async (lb: string) => {
  // peers: a draining node tells the others, which hand its stranded flows back to it (test/bgp/node.mjs)
  const peers = LBS.filter((x) => x !== lb);
  nodes.set(lb, await startBalancer(lab, lb, { vip: VIP, router: "router", webs: WEBS, bfd: BFD, peers }));
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The load with `event` EVENT_AT ms in: failed requests, the longest time without a successful response, and the
 * time from the event until the router forwards over `after` (polled, ~25 ms resolution).
 */
async function measure(
  scenario: string,
  vrrp: string,
  after: string[],
  event: () => Promise<unknown>,
  ms = LOAD.ms,
): Promise<void> {
  const args = JSON.stringify({ vip: VIP, ...LOAD, ms });
  const load = lab.runNode("client", here("../../test/bgp/client.mjs"), [args], { timeoutMs: 90_000 });
  await sleep(EVENT_AT);
  // the measurement holds only if nothing moved before the event (a loaded host can flap a session or a check)
  const before = JSON.stringify(await router.nexthops(VIP));
  const all = JSON.stringify(
    LBS.filter((lb) => nodes.has(lb))
      .map(addr)
      .sort(),
  );
  if (before !== all) {
    const log = [...nodes].map(([lb, p]) => `${lb}: ${p.output().split("\n").slice(-8).join("\n")}`);
    throw new Error(`${scenario}: next hops ${before} before the event, not ${all}\n${log.join("\n")}`);
  }
  const t0 = performance.now();
  const changed = nexthopsAre(after).then(() => performance.now() - t0);
  await event();
  const route = await changed;
  expect(route, `${scenario}: the route changed after the load ended`).toBeLessThan(ms - EVENT_AT - 1000);
  const replies = (JSON.parse((await load).stdout) as Reply[]).sort((a, b) => a.t - b.t);
  const ok = replies.filter((r) => r.ok).map((r) => r.t);
  let gap = 0;
  for (let i = 1; i < ok.length; i++) gap = Math.max(gap, ok[i]! - ok[i - 1]!);
  rows.push({ scenario, vrrp, failed: replies.length - ok.length, total: replies.length, gap, route });
}

/** The lbkit column of the deploy section's row for `scenario` (VRRP pair, same load). */
function vrrpFigure(scenario: string): string {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const row = readme.split("\n").find((l) => l.startsWith(`| ${scenario} |`));
  const cells = row?.split("|").map((c) => c.trim());
  return cells ? `${cells[2]} (gap ${cells[4]})` : "—";
}

beforeAll(async () => {
  if (pre.skip) return;
  ({ lab, router } = await startEcmpLab({ vip: VIP, lbs: LBS, webs: WEBS, bfd: BFD }));
  for (const lb of LBS) await startNode(lb);
  await nexthopsAre(LBS);
}, 180_000);

afterAll(async () => {
  await router?.stop();
  await lab?.destroy();
});

it.skipIf(pre.skip)(
  "requests lost per scenario",
  async () => {
    await measure(
      "a balancer crashes (link down)",
      vrrpFigure("master crashes (SIGKILL + link down)"),
      ["lb1", "lb2"],
      () => lab.exec("lb3", ["ip", "link", "set", "eth0", "down"]),
    );
    await lab.exec("lb3", ["ip", "link", "set", "eth0", "up"]);
    await nexthopsAre(LBS);
    await sleep(2000); // the returning balancer's buckets (idle timer 1 s)

    await measure(
      "planned drain of a balancer",
      vrrpFigure("planned maintenance of the master"),
      ["lb1", "lb3"],
      async () => {
        const lb2 = nodes.get("lb2")!;
        lb2.kill("SIGUSR1");
        await lb2.waitFor(/"event":"drained"/, 30_000);
      },
    );
    await startNode("lb2");
    await nexthopsAre(LBS);
    await sleep(2000);

    const table = "lbkit_bgp_bench";
    await measure(
      "every backend of a balancer fails (it withdraws)",
      vrrpFigure("master's proxy dies, VRRP lives (track weight −6)"),
      ["lb2", "lb3"],
      async () => {
        await lab.exec("lb1", ["nft", `add table inet ${table}`]);
        await lab.exec("lb1", ["nft", `add chain inet ${table} out { type filter hook output priority 0; }`]);
        await lab.exec("lb1", ["nft", `add rule inet ${table} out tcp dport 8080 reject with tcp reset`]);
      },
    );
    await lab.exec("lb1", ["nft", `delete table inet ${table}`]);
    await nexthopsAre(LBS);
    await sleep(2000);

    // a balancer stopped gracefully (SIGTERM: its speaker withdraws) starts again during the load
    const lb3 = nodes.get("lb3")!;
    lb3.kill("SIGTERM");
    await lb3.exited;
    nodes.delete("lb3");
    await nexthopsAre(["lb1", "lb2"]);
    await sleep(2000);
    // its BGP session takes ~15 s to come back (node start under load, FRR's reconnect): a 30 s load spans it
    await measure(
      "a balancer returns",
      vrrpFigure("the master comes back (failback)"),
      LBS,
      () => startNode("lb3"),
      RETURN_LOAD_MS,
    );
    await nexthopsAre(LBS);
    expect(rows.length).toBe(4);
  },
  600_000,
);

it.skipIf(pre.skip)("writes the table", () => {
  writeSection(
    "bgp-loss",
    [
      "## @lbkit/bgp — requests lost per scenario, beside the VRRP pair",
      "",
      "Regenerate: `pnpm --filter @lbkit/bench bench:bgp` as root (with the table above; after `pnpm build`).",
      `Measured ${new Date().toISOString().slice(0, 10)}: the test/bgp-ecmp lab — FRR 8.4 router (ECMP over a resilient`,
      "next-hop group, BFD 100 ms × 3), three balancers each running @lbkit/proxy (L7, Maglev, TCP checks every",
      "200 ms) + gobgpd + an lbkit BgpSpeaker (fall 300 ms), three web servers. The load is the deploy section's:",
      `${LOAD.rate} HTTP requests/s, a fresh connection each, ${LOAD.timeout} ms timeout, for ${LOAD.ms / 1000} s, the event ${EVENT_AT / 1000} s in.`,
      "The VRRP column is the lbkit ha-pair's figure from the deploy section below (one active node; its nearest",
      "scenario: crash, planned maintenance, the master's proxy dying, failback). A crash loses the requests ECMP sends",
      "to the dead balancer until BFD takes its route away — a third of the traffic for the detection time, not all",
      "of it for the VRRP takeover; when every backend of one balancer fails, its proxy answers 503 for the checks'",
      "fall time plus the speaker's 300 ms before it withdraws. Route change: from the event until the router",
      "forwards over the new set of balancers (polled every 25 ms; for the return, from starting the node). The",
      "client paces itself with timers, so under load it sends fewer than 2200 requests in the 11 s. The return",
      `runs the load for ${RETURN_LOAD_MS / 1000} s: the BGP session of a restarted node takes longer than 8 s to come back.`,
      "",
      "| scenario | lbkit bgp failed | longest gap | event → route change | lbkit VRRP pair failed (deploy) |",
      "|---|---|---|---|---|",
      ...rows.map(
        (r) =>
          `| ${r.scenario} | ${r.failed} / ${r.total} | ${r.gap} ms | ${Math.round(r.route)} ms | ${r.vrrp} |`,
      ),
    ].join("\n"),
  );
});
