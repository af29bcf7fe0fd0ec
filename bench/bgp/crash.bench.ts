// Crash → route change, BFD vs the BGP hold timer: a router namespace running FRR (ECMP) and two lbkit balancer
// nodes (gobgpd + BgpSpeaker, test/bgp/node.mjs). lb2 crashes silently (its eth0 goes down: no FIN, no RST, no
// BFD AdminDown) and the router's `ip monitor route` reports the VIP's route losing lb2 as a next hop. Bounded: a
// few runs per setting. Run: `pnpm --filter @lbkit/bench bench:bgp` as root (after `pnpm build`). Writes the
// <!-- bgp --> section of bench/README.md.
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { type Router, startBalancer, startGobgpd, startRouter, waitFor } from "../../test/bgp/lab.js";
import { ensureBuilt } from "../../test/lab/build.js";
import { createLab, type Lab, requireRoot } from "../../test/lab/netns.js";
// @ts-expect-error -- a plain .mjs helper without typings
import { writeSection as writeSectionUntyped } from "../lib/readme-section.mjs";

const writeSection = writeSectionUntyped as (name: string, body: string) => void;
const pre = requireRoot(["ip", "gobgpd", "vtysh"]);
const VIP = "198.18.1.1";

interface Setting {
  name: string;
  bfd?: { tx: number; rx: number; mult: number };
  hold: number;
  runs: number;
}
const settings: Setting[] = [
  { name: "BFD 100 ms × 3, hold 9 s", bfd: { tx: 100, rx: 100, mult: 3 }, hold: 9, runs: 5 },
  { name: "BFD 50 ms × 3, hold 9 s", bfd: { tx: 50, rx: 50, mult: 3 }, hold: 9, runs: 5 },
  { name: "no BFD, hold 3 s", hold: 3, runs: 3 },
  { name: "no BFD, hold 9 s", hold: 9, runs: 2 },
];

let lab: Lab | undefined;
let router: Router | undefined;
afterEach(async () => {
  await router?.stop();
  await lab?.destroy();
  router = undefined;
  lab = undefined;
});

const rows: string[] = [];
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const s of settings) {
  it.skipIf(pre.skip)(
    `crash → route change: ${s.name}`,
    async () => {
      for (const p of ["core", "balancer", "healthcheck", "proxy", "arp", "bgp"]) ensureBuilt(p);
      const l = await createLab({ nodes: ["router", "lb1", "lb2", "web1"] });
      lab = l;
      const addr = (n: string) => l.node(n).ipv4;
      const keepalive = Math.max(1, Math.floor(s.hold / 3));
      router = await startRouter(l, "router", {
        neighbors: [addr("lb1"), addr("lb2")],
        bfd: s.bfd,
        timers: { keepalive, hold: s.hold },
      });
      await l
        .spawnNode("web1", fileURLToPath(new URL("../../test/bgp/web.mjs", import.meta.url)), [
          "web1",
          addr("web1"),
        ])
        .waitFor(/listening/);
      for (const lb of ["lb1", "lb2"]) {
        await l.exec(lb, ["ip", "addr", "add", `${VIP}/32`, "dev", "lo"]);
        await startGobgpd(l, lb);
        await startBalancer(l, lb, {
          vip: VIP,
          router: "router",
          webs: ["web1"],
          bfd: s.bfd,
          holdTime: s.hold,
        });
      }
      const both = [addr("lb1"), addr("lb2")].sort().join(",");
      const times: number[] = [];
      for (let run = 0; run < s.runs; run++) {
        await waitFor(async () => (await router!.nexthops(VIP)).join(",") === both, 90_000, "both next hops");
        if (s.bfd)
          await waitFor(
            async () => /Status: up/.test(await router!.vtysh(`show bfd peer ${addr("lb2")}`)),
            10_000,
          );
        await new Promise((r) => setTimeout(r, 500 + Math.random() * 500)); // a random phase of the timers
        const monitor = l.spawn("router", ["ip", "-4", "monitor", "route"]);
        await new Promise((r) => setTimeout(r, 100));
        const t0 = performance.now();
        await l.exec("lb2", ["ip", "link", "set", "eth0", "down"]);
        await monitor.waitFor(/198\.18\.1\.1/, 60_000); // the VIP route replaced (ECMP group shrank)
        await waitFor(
          async () => (await router!.nexthops(VIP)).join(",") === addr("lb1"),
          60_000,
          "lb2 gone",
        );
        times.push(performance.now() - t0);
        monitor.kill();
        await l.exec("lb2", ["ip", "link", "set", "eth0", "up"]);
      }
      const detect = s.bfd
        ? `${fmt(s.bfd.mult * Math.max(s.bfd.tx, s.bfd.rx))} (BFD)`
        : `${fmt(s.hold * 1000)} (hold)`;
      rows.push(
        `| ${s.name} | ${detect} | ${fmt(median(times))} (${fmt(Math.min(...times))}–${fmt(Math.max(...times))}) | ${s.runs} |`,
      );
      expect(times.length).toBe(s.runs);
    },
    600_000,
  );
}

it.skipIf(pre.skip)("writes the table", () => {
  writeSection(
    "bgp",
    [
      "## @lbkit/bgp — balancer crash → router's route change",
      "",
      "Regenerate: `pnpm --filter @lbkit/bench bench:bgp` as root (after `pnpm build`; needs gobgpd, frr).",
      `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model ?? "?"} (${cpus().length} cores), Node ${process.version},`,
      "FRR 8.4 (zebra + bgpd + bfdd, ECMP) in a router namespace, two balancer namespaces each running gobgpd 3.10",
      "driven by an lbkit BgpSpeaker (test/bgp/node.mjs). lb2 crashes silently (its link goes down: no FIN, no RST,",
      "no AdminDown); the time runs from the crash to the router's kernel route for the VIP losing lb2 as a next hop.",
      "Median (min–max). With BFD the router's bfdd declares lb2 down after the detection time and bgpd drops the",
      "session and its routes; without BFD only the hold timer ends the session.",
      "",
      "| setting | detection bound | crash → route change | runs |",
      "|---|---|---|---|",
      ...rows,
    ].join("\n"),
  );
});
