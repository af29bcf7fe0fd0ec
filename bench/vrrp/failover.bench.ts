// Failover time, lbkit vs keepalived 2.2, measured on the wire in the same run: two nodes in network namespaces
// (test/lab), the master crashes (SIGKILL; keepalived's VRRP child too, so no priority-0 advert), and a capture on
// the bridge gives the new master's first advert and first gratuitous ARP. Run: `pnpm --filter @lbkit/bench
// bench:vrrp` as root (after `pnpm build`). Writes the <!-- vrrp --> section of bench/README.md.
import { cpus } from "node:os";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BRIDGE, createLab, type Lab, requireRoot } from "../../test/lab/netns.js";
import { readPcap } from "../../test/lab/pcap.js";
import {
  buildVrrp,
  crashKeepalived,
  events,
  killAll,
  startKeepalived,
  startLbkit,
  waitEvent,
  waitVip,
} from "../../test/vrrp/helpers.js";
// @ts-expect-error -- a plain .mjs helper without typings
import { writeSection as writeSectionUntyped } from "../lib/readme-section.mjs";

const writeSection = writeSectionUntyped as (name: string, body: string) => void;
const VIP = "198.18.0.200";
const pre = requireRoot(["ip", "tcpdump", "keepalived"]);
const settings = [
  { version: 2 as const, interval: 1000, runs: 5 },
  { version: 3 as const, interval: 100, runs: 10 },
  { version: 3 as const, interval: 50, runs: 10 },
];
const impls = ["lbkit", "keepalived"] as const;

interface Sample {
  toAdvert: number;
  toGarp: number;
  lastToAdvert: number;
  /** lbkit: the new master's worst event-loop delay over the 550 ms from 50 ms before it became master, ms */
  loopDelay?: number;
  /** lbkit: the same node's worst event-loop delay over the 500 ms before the crash (idle backup), ms */
  idleLoopDelay?: number;
}
const results = new Map<string, Sample[]>();

let lab: Lab;
beforeAll(async () => {
  buildVrrp();
  lab = await createLab({ nodes: ["m", "b"] });
}, 120_000);
afterAll(() => lab?.destroy());

function ipv4Frame(d: Uint8Array) {
  if (d.length < 34) return undefined;
  const type = (d[12]! << 8) | d[13]!;
  return { type, d };
}

const ip4 = (d: Uint8Array, o: number) => `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;

/** First VRRP advert from `src` and first gratuitous ARP for the VIP after `after` (µs), last advert from `old` before it. */
function measure(file: string, after: number, src: string, old: string) {
  let advert: number | undefined;
  let garp: number | undefined;
  let last: number | undefined;
  for (const r of readPcap(file).records) {
    const f = ipv4Frame(r.data);
    if (!f) continue;
    if (f.type === 0x0800 && f.d[23] === 112) {
      const s = ip4(f.d, 26);
      if (s === old && r.timeUs <= after) last = r.timeUs;
      if (s === src && r.timeUs > after && advert === undefined && f.d[36] !== 0) advert = r.timeUs;
    }
    // ARP: sender IP at 28, target IP at 38
    if (
      f.type === 0x0806 &&
      r.timeUs > after &&
      garp === undefined &&
      ip4(f.d, 28) === VIP &&
      ip4(f.d, 38) === VIP
    )
      garp = r.timeUs;
  }
  return { advert, garp, last };
}

for (const s of settings)
  for (const impl of impls)
    it.skipIf(pre.skip)(
      `${impl} v${s.version} advert ${s.interval} ms`,
      async () => {
        const key = `${impl}|${s.version}|${s.interval}`;
        const samples: Sample[] = [];
        const M = lab.node("m").ipv4;
        const B = lab.node("b").ipv4;
        for (let run = 0; run < s.runs; run++) {
          const cap = await lab.capture(BRIDGE, { filter: "vrrp or arp" });
          const vrid = 90 + run;
          let crash: () => Promise<void>;
          let backupReady: Promise<unknown>;
          let loopDelay: (killedMs: number) => Promise<{ takeover: number; idle: number } | undefined> =
            async () => undefined;
          if (impl === "lbkit") {
            const o = {
              vrid,
              version: s.version,
              advertInterval: s.interval,
              virtualAddresses: [`${VIP}/24`],
            };
            const m = startLbkit(lab, "m", { ...o, priority: 150, id: "m" });
            await waitEvent(m, "master");
            // loopDelay: b prints its event loop's delay (max, p99) every 50 ms
            const b = startLbkit(lab, "b", { ...o, priority: 100, id: "b", loopDelay: 50 });
            backupReady = waitEvent(b, "backup");
            loopDelay = async (killedMs) => {
              const became = await waitEvent(b, "master", killedMs);
              await waitEvent(b, "loop", became.t + 550);
              const worst = (from: number, to: number) =>
                Math.max(
                  ...events(b)
                    .filter((e) => e.event === "loop" && e.t > from && e.t <= to)
                    .map((e) => Number(e.max)),
                );
              return { takeover: worst(became.t, became.t + 550), idle: worst(killedMs - 500, killedMs) };
            };
            crash = async () => {
              m.kill("SIGKILL");
              await m.exited;
            };
          } else {
            const o = { vrid, version: s.version, advertInt: s.interval / 1000, vip: `${VIP}/24` };
            const m = startKeepalived(lab, "m", { ...o, name: `m${run}`, priority: 150 });
            await waitVip(lab, "m", VIP, true, 20_000);
            const b = startKeepalived(lab, "b", { ...o, name: `b${run}`, priority: 100 });
            backupReady = b.waitFor(/Entering BACKUP STATE/, 15_000);
            crash = () => crashKeepalived(m);
          }
          await backupReady;
          // let the backup hear a few adverts, and vary the crash's phase against the advert timer
          await new Promise((r) => setTimeout(r, 4 * s.interval + Math.random() * s.interval));
          const killedUs = Date.now() * 1000;
          await crash();
          await waitVip(lab, "b", VIP, true, 20_000);
          const loop = await loopDelay(killedUs / 1000);
          await new Promise((r) => setTimeout(r, 200));
          const file = await cap.stop();
          await killAll();
          for (const n of ["m", "b"])
            await lab.exec(n, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"]).catch(() => undefined);
          const r = measure(file, killedUs, B, M);
          expect(r.advert, "no advert from the new master in the capture").toBeDefined();
          expect(r.garp, "no gratuitous ARP in the capture").toBeDefined();
          samples.push({
            toAdvert: (r.advert! - killedUs) / 1000,
            toGarp: (r.garp! - killedUs) / 1000,
            lastToAdvert: (r.advert! - (r.last ?? killedUs)) / 1000,
            ...(loop ? { loopDelay: loop.takeover, idleLoopDelay: loop.idle } : {}),
          });
        }
        results.set(key, samples);
      },
      600_000,
    );

it.skipIf(pre.skip)("writes bench/README.md", () => {
  const med = (xs: number[]) => {
    const a = [...xs].sort((x, y) => x - y);
    return a[Math.floor(a.length / 2)]!;
  };
  const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(1)} ms`);
  const rows: string[] = [];
  for (const s of settings) {
    const mdi = 3 * s.interval + ((256 - 100) * (s.version === 3 ? s.interval : 1000)) / 256;
    for (const impl of impls) {
      const xs = results.get(`${impl}|${s.version}|${s.interval}`) ?? [];
      if (xs.length === 0) continue;
      const col = (f: (x: Sample) => number) => {
        const v = xs.map(f);
        return `${fmt(med(v))} (${fmt(Math.min(...v))}–${fmt(Math.max(...v))})`;
      };
      const lbkit = xs.every((x) => x.loopDelay !== undefined);
      const loop = lbkit ? col((x) => x.loopDelay!) : "—";
      const idle = lbkit ? col((x) => x.idleLoopDelay!) : "—";
      rows.push(
        `| v${s.version}, advert ${fmt(s.interval)} | ${impl} | ${fmt(mdi)} | ${col((x) => x.lastToAdvert)} | ${col((x) => x.toAdvert)} | ${col((x) => x.toGarp)} | ${loop} | ${idle} | ${xs.length} |`,
      );
    }
  }
  expect(rows.length).toBe(settings.length * impls.length);
  writeSection(
    "vrrp",
    `## @lbkit/vrrp — failover time

Regenerate: \`pnpm --filter @lbkit/bench bench:vrrp\` as root (after \`pnpm build\`; needs keepalived, tcpdump).
Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? "?"} (${cpus().length} cores), Node ${process.version}, keepalived 2.2.7,
two nodes in network namespaces on a veth bridge (test/lab). Master priority 150, backup 100, one VIP. The master
crashes (SIGKILL; for keepalived its VRRP child too, so no priority-0 advert is sent); times come from a tcpdump
capture on the bridge, against the kill instant (wall clock) and against the old master's last advert.
Median (min–max) over the runs. The RFC's Master_Down_Interval for the backup (priority 100) is
3 × interval + Skew_Time (v3: (256 − 100) / 256 × interval; v2 as keepalived: (256 − 100) / 256 s).
"kill →" is shorter than Master_Down_Interval because the last advert was already up to one interval old; the
crash lands at a random phase of the advert timer, so compare speakers on "last advert →" (phase-independent).
"loop delay" is what the takeover costs the rest of the new master's process: its worst event-loop delay
(perf_hooks monitorEventLoopDelay, 1 ms resolution, in 50 ms windows) over the 550 ms from 50 ms before it became
master — the VIP change and the GARP burst (the AF_PACKET socket is opened at start and kept, not opened and
closed per burst) — against the same measure over the 500 ms before the crash, when it was an idle backup: on a
shared host most of either is the scheduler, so read the difference.

| setting | speaker (both nodes) | Master_Down_Interval | last advert → new master's first advert | kill → first advert | kill → first GARP | loop delay, takeover (lbkit) | loop delay, idle backup | runs |
|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}`,
  );
});
