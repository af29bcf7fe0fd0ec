// Hostile input against an lbkit master in network namespaces (issue 10): forged adverts with the wrong TTL /
// hop limit, a rogue address owner, and a flood of lower-priority adverts. The spoofer crafts its adverts with
// the codec and sends them from a raw socket (test/vrrp/spoof.mjs); everything is bounded in count and time.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BRIDGE, createLab, type Lab, requireRoot } from "./lab/netns.js";
import { readPcap } from "./lab/pcap.js";
import {
  buildVrrp,
  events,
  killAll,
  spoof,
  startLbkit,
  startSpoofer,
  vipsOn,
  waitEvent,
  waitVip,
} from "./vrrp/helpers.js";

const pre = requireRoot(["ip", "tcpdump"]);
const VIP = "198.18.0.200";
const VIP6 = "2001:db8::200";

/**
 * Waits until `n()` reaches `want` (or `ms` pass) and returns it: the spoofer can exit before the node under test
 * has printed its last discard events, so a count read right after the spoofer is done races that output.
 */
async function reaches(n: () => number, want: number, ms = 3000): Promise<number> {
  const deadline = Date.now() + ms;
  while (n() < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return n();
}

describe.skipIf(pre.skip)("vrrp: hostile adverts", () => {
  let lab: Lab;
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["a", "p", "s"], ipv6: true });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(async () => {
    await killAll();
    for (const n of ["a", "p"]) {
      await lab.exec(n, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"]).catch(() => undefined);
      await lab.exec(n, ["ip", "addr", "del", `${VIP6}/64`, "dev", "eth0"]).catch(() => undefined);
    }
  });

  it("IPv6: forged adverts with hop limit 254, 64 or 1 do not move the master; hop limit 255 does (RFC 5798 §7.1)", async () => {
    const a = startLbkit(lab, "a", {
      id: "a6",
      vrid: 91,
      version: 3,
      advertInterval: 100,
      priority: 100,
      virtualAddresses: [`${VIP6}/64`],
    });
    await waitEvent(a, "master");
    await waitVip(lab, "a", VIP6, true);
    const forged = { family: 6 as const, vrid: 91, priority: 254, addresses: [VIP6], count: 20, rate: 100 };
    for (const ttl of [254, 64, 1]) {
      const done = await spoof(lab, "s", { ...forged, ttl });
      expect(done.sent).toBe(20);
    }
    expect(events(a).filter((e) => e.event === "backup" && e.from === "master")).toEqual([]);
    expect(await vipsOn(lab, "a", VIP6)).not.toEqual([]);
    // the same adverts with hop limit 255 are a legitimate higher priority
    const t = Date.now();
    await spoof(lab, "s", { ...forged, ttl: 255, count: 5 });
    const b = await waitEvent(a, "backup", t);
    expect(b.reason).toBe("higher-priority");
  }, 60_000);

  it("IPv4: forged adverts with TTL 254, 64 or 1 are discarded (reason ttl); TTL 255 moves the master", async () => {
    const a = startLbkit(lab, "a", {
      id: "a4",
      vrid: 92,
      version: 3,
      advertInterval: 100,
      priority: 100,
      virtualAddresses: [`${VIP}/24`],
    });
    await waitEvent(a, "master");
    const forged = { vrid: 92, priority: 254, addresses: [VIP], count: 20, rate: 100 };
    for (const ttl of [254, 64, 1]) await spoof(lab, "s", { ...forged, ttl });
    const ttlDiscards = () => events(a).filter((e) => e.event === "discard" && e.reason === "ttl").length;
    expect(await reaches(ttlDiscards, 55)).toBeGreaterThanOrEqual(55);
    expect(events(a).filter((e) => e.event === "backup" && e.from === "master")).toEqual([]);
    const t = Date.now();
    await spoof(lab, "s", { ...forged, ttl: 255, count: 5 });
    expect((await waitEvent(a, "backup", t)).reason).toBe("higher-priority");
  }, 60_000);

  it("the address owner keeps its address against a forged priority-255 advert from a higher address, and reports the conflict", async () => {
    const OWN = lab.node("a").ipv4;
    const a = startLbkit(lab, "a", {
      id: "own",
      vrid: 93,
      version: 3,
      advertInterval: 100,
      priority: 255,
      virtualAddresses: [`${OWN}/24`],
    });
    expect((await waitEvent(a, "master")).reason).toBe("address-owner");
    // 198.18.0.250 > the owner's address: without the owner rule this is "equal priority, higher address"
    await spoof(lab, "s", {
      vrid: 93,
      priority: 255,
      addresses: [OWN],
      src: "198.18.0.250",
      count: 20,
      rate: 100,
    });
    await reaches(() => events(a).filter((e) => e.event === "discard").length, 19);
    expect(events(a).filter((e) => e.event === "backup" && e.from === "master")).toEqual([]);
    const discards = events(a).filter((e) => e.event === "discard");
    expect(discards.length).toBeGreaterThanOrEqual(19);
    expect(discards.every((e) => e.reason === "owner-conflict" && e.src === "198.18.0.250")).toBe(true);
    const errors = events(a).filter((e) => e.event === "error");
    expect(errors).toHaveLength(1); // once, not per advert
    expect(String(errors[0]!.message)).toMatch(/198\.18\.0\.250 also advertises priority 255/);
  }, 60_000);

  it("a flood of 10k lower-priority adverts/s: answers stay rate-limited and stop after the flood; a priority-250 peer is obeyed within 1 s; the loop keeps up", async () => {
    const A = lab.node("a").ipv4;
    const cap = await lab.capture(BRIDGE, { filter: `(vrrp and src host ${A}) or arp` });
    const base = { vrid: 94, version: 3, advertInterval: 100, virtualAddresses: [`${VIP}/24`] };
    const a = startLbkit(lab, "a", {
      ...base,
      id: "a",
      priority: 100,
      loopDelay: 250,
      garp: { lowerPrioDelay: 1000 },
    });
    const am = await waitEvent(a, "master");
    await new Promise((r) => setTimeout(r, 6000)); // past the takeover's second GARP burst (garp delay 5 s)
    const flood = {
      vrid: 94,
      priority: 50,
      addresses: [VIP],
      src: "198.18.0.66",
      count: 30_000,
      rate: 10_000,
    };

    // 1. 3 s of flood against a lone master
    const f1 = startSpoofer(lab, "s", flood);
    const start1 = (await waitEvent(f1, "spoofing")).t;
    const done1 = await waitEvent(f1, "done", 0, 20_000);
    expect(done1.sent).toBeGreaterThan(25_000);
    await new Promise((r) => setTimeout(r, 4000));

    // 2. flood again; a priority-250 peer starts during it
    const f2 = startSpoofer(lab, "s", flood);
    await waitEvent(f2, "spoofing");
    await new Promise((r) => setTimeout(r, 500));
    const p = startLbkit(lab, "p", { ...base, id: "p", priority: 250 });
    const pm = await waitEvent(p, "master", 0, 10_000);
    const ab = await waitEvent(a, "backup", am.t, 10_000);
    await waitEvent(f2, "done", 0, 20_000);
    const file = await cap.stop();

    expect(ab.reason).toBe("higher-priority");
    expect(ab.t - pm.t).toBeLessThan(1000);
    // the event loop kept up during both floods
    const loops = events(a).filter((e) => e.event === "loop" && e.t > start1);
    const maxes = loops.map((e) => Number(e.max)).sort((x, y) => x - y);
    const worst = maxes.at(-1)!;
    const p90 = maxes[Math.floor(maxes.length * 0.9)]!;
    console.log(
      `flood: event loop delay max ${worst.toFixed(1)} ms (90% of 250 ms windows under ${p90.toFixed(1)}); peer obeyed after ${ab.t - pm.t} ms`,
    );
    // the flood never starves the loop: nine windows in ten stay under 100 ms, and none reaches a second (a
    // single 200 ms hiccup of a loaded CI host is not the flood's doing)
    expect(loops.length).toBeGreaterThan(10);
    expect(p90).toBeLessThan(100);
    expect(worst).toBeLessThan(1000);

    // a's frames on the wire: adverts (IPv4 proto 112 from A) and ARPs (from a's MAC), by time
    const macA = lab
      .node("a")
      .mac.split(":")
      .map((x) => Number.parseInt(x, 16));
    const fromA = (d: Uint8Array) => macA.every((b, i) => d[6 + i] === b);
    const recs = readPcap(file).records.filter((r) => fromA(r.data));
    const at = (r: { timeUs: number }) => r.timeUs / 1000;
    const isArp = (d: Uint8Array) => d[12] === 0x08 && d[13] === 0x06;
    const isVrrp = (d: Uint8Array) => d[12] === 0x08 && d[13] === 0x00 && d[23] === 112;
    const count = (from: number, to: number, kind: (d: Uint8Array) => boolean) =>
      recs.filter((r) => kind(r.data) && at(r) >= from && at(r) < to).length;
    const flood1 = [start1, done1.t];
    // during the flood: the regular 10/s plus at most one answer per interval
    const during = count(flood1[0]!, flood1[1]!, isVrrp);
    const seconds = (flood1[1]! - flood1[0]!) / 1000;
    expect(during).toBeLessThanOrEqual(Math.ceil(seconds * 20) + 4);
    // from 2 s after the flood: back to the regular rate (10/s), and no more ARPs. The delayed GARP burst
    // (lowerPrioDelay 1 s) may be armed by an answer at the flood's very end, so it is allowed until then.
    // 20 adverts in these 2 s: up to two answers more, or a 400 ms stall's worth fewer
    const quiet = [done1.t + 2000, done1.t + 4000] as const;
    expect(count(quiet[0], quiet[1], isVrrp)).toBeLessThanOrEqual(22);
    expect(count(quiet[0], quiet[1], isVrrp)).toBeGreaterThanOrEqual(16);
    expect(count(quiet[0], quiet[1], isArp)).toBe(0);
  }, 90_000);
});
