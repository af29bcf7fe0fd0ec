// Interop with keepalived 2.2 (Debian) in network namespaces, VRRPv2 and VRRPv3: crash and graceful failover
// both ways, preemption back, an equal-priority tie after a split brain, unicast peers, v2 PASS auth; every
// lbkit advert must decode in tshark as valid VRRP with no warning.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BRIDGE, createLab, type Lab, type LabProcess, requireRoot } from "./lab/netns.js";
import { readPcap } from "./lab/pcap.js";
import { decodeProblems, decodeVerbose } from "./lab/tshark.js";
import {
  buildVrrp,
  crashKeepalived,
  events,
  type KeepalivedOptions,
  killAll,
  startKeepalived,
  startLbkit,
  takeoverOnWire,
  vipsOn,
  waitEvent,
  waitVip,
} from "./vrrp/helpers.js";

const pre = requireRoot(["ip", "tcpdump", "tshark", "keepalived", "nft"]);
const VIP = "198.18.0.200";

/** Waits for a keepalived log line after `from` chars of output. */
async function waitLog(p: LabProcess, re: RegExp, from = 0, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!re.test(p.output().slice(from))) {
    if (Date.now() > end)
      throw new Error(`keepalived: no ${re} within ${timeoutMs} ms; output:\n${p.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopped(p: LabProcess, signal: NodeJS.Signals): Promise<void> {
  p.kill(signal);
  await p.exited;
}

/** Every advert lbkit sent decodes as valid VRRP of `version`, with no tshark warning. */
async function checkLbkitAdverts(file: string, src: string, version: 2 | 3): Promise<number> {
  const verbose = await decodeVerbose(file, `vrrp && ip.src == ${src}`);
  expect(decodeProblems(verbose)).toEqual([]);
  const n = (verbose.match(/^Virtual Router Redundancy Protocol/gm) ?? []).length;
  expect((verbose.match(/Checksum Status: Good/g) ?? []).length).toBe(n);
  expect(
    (verbose.match(new RegExp(`Version ${version}, Packet type 1 \\(Advertisement\\)`, "g")) ?? []).length,
  ).toBe(n);
  return n;
}

describe.skipIf(pre.skip)("vrrp: interop with keepalived 2.2", () => {
  let lab: Lab;
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["k", "l"] });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(async () => {
    await killAll();
    for (const n of ["k", "l"])
      await lab.exec(n, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"]).catch(() => undefined);
    for (const n of ["k", "l"])
      await lab.exec(n, ["nft", "delete", "table", "inet", "vrrpcut"]).catch(() => undefined);
  });

  for (const version of [2, 3] as const) {
    const advertInterval = version === 2 ? 1000 : 100;
    const vrid = 60 + version;
    const ka = (
      name: string,
      priority: number,
      extra: Partial<KeepalivedOptions> = {},
    ): KeepalivedOptions => ({
      name,
      vrid,
      priority,
      version,
      advertInt: advertInterval / 1000,
      vip: `${VIP}/24`,
      ...extra,
    });
    const lb = (id: string, priority: number, extra: Record<string, unknown> = {}) => ({
      id,
      vrid,
      version,
      advertInterval,
      priority,
      virtualAddresses: [`${VIP}/24`],
      ...extra,
    });
    const mdi = (p: number) =>
      3 * advertInterval + ((256 - p) * (version === 3 ? advertInterval : 1000)) / 256;

    it(`v${version}: keepalived ⇄ lbkit — crash and graceful failover both ways, preemption back`, async () => {
      const cap = await lab.capture(BRIDGE, { filter: "vrrp" });
      const L = lab.node("l").ipv4;
      // 1. keepalived (150) master, lbkit (100) backup
      let k = startKeepalived(lab, "k", ka("k1", 150));
      await waitLog(k, /Entering MASTER STATE/);
      let l = startLbkit(lab, "l", lb("l1", 100));
      await waitEvent(l, "backup");
      await waitVip(lab, "k", VIP, true);
      await new Promise((r) => setTimeout(r, 3 * advertInterval));
      expect(await vipsOn(lab, "l", VIP)).toEqual([]);

      // 2. keepalived crashes → lbkit takes over after Master_Down_Interval
      let t = Date.now();
      await crashKeepalived(k);
      let m = await waitEvent(l, "master", t);
      expect(m.reason).toBe("master-down-timer");
      expect(m.t - t).toBeLessThan(mdi(100) + 500);
      await waitVip(lab, "l", VIP, true);
      await lab.exec("k", ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"]).catch(() => undefined);

      // 3. keepalived (150) comes back → preempts lbkit
      t = Date.now();
      let out = 0;
      k = startKeepalived(lab, "k", ka("k2", 150));
      const back = await waitEvent(l, "backup", t);
      expect(back.reason).toBe("higher-priority");
      await waitLog(k, /Entering MASTER STATE/);
      await waitVip(lab, "k", VIP, true);
      await waitVip(lab, "l", VIP, false);

      // 4. keepalived stops gracefully (priority 0) → lbkit takes over after Skew_Time only (timed on the wire
      // at the end: from keepalived's priority-0 advert to lbkit's first)
      const resigned4 = Date.now();
      await stopped(k, "SIGTERM");
      m = await waitEvent(l, "master", resigned4);
      expect(m.reason).toBe("peer-resigned");
      await waitVip(lab, "l", VIP, true);

      // 5. keepalived (100) joins as backup; lbkit stops gracefully → keepalived takes over at once
      k = startKeepalived(lab, "k", ka("k3", 100));
      await waitLog(k, /Entering BACKUP STATE/);
      await new Promise((r) => setTimeout(r, 3 * advertInterval));
      expect(await vipsOn(lab, "k", VIP)).toEqual([]);
      out = k.output().length;
      // keepalived takes over on lbkit's priority-0 advert (Skew_Time), long before a Master_Down_Interval; timed
      // on the wire at the end, not by this process's clock or lbkit's exit (which a loaded host can stretch)
      const resigned5 = Date.now();
      l.kill("SIGTERM");
      await waitLog(k, /Entering MASTER STATE/, out, mdi(100) + 2000);
      await l.exited;
      expect(await vipsOn(lab, "l", VIP)).toEqual([]);
      await waitVip(lab, "k", VIP, true);

      // 6. lbkit (150) comes back → preempts keepalived; then lbkit crashes → keepalived takes over
      t = Date.now();
      out = k.output().length;
      l = startLbkit(lab, "l", lb("l2", 150));
      await waitEvent(l, "master", t);
      await waitLog(k, /Entering BACKUP STATE/, out);
      await waitVip(lab, "k", VIP, false);
      await waitVip(lab, "l", VIP, true);
      out = k.output().length;
      t = Date.now();
      await stopped(l, "SIGKILL");
      await waitLog(k, /Entering MASTER STATE/, out, mdi(100) + 2000);
      await waitVip(lab, "k", VIP, true);
      await lab.exec("l", ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"]).catch(() => undefined);
      await stopped(k, "SIGTERM");

      const file = await cap.stop();
      const n = await checkLbkitAdverts(file, L, version);
      expect(n).toBeGreaterThan(3);
      // each resignation: the new master's first advert follows the old one's priority-0 advert within a
      // Master_Down_Interval (Skew_Time plus the host's delays), as RFC 3768/5798 §6.4.2/§6.4.3 require
      const K = lab.node("k").ipv4;
      for (const [at, from, to] of [
        [resigned4, K, L],
        [resigned5, L, K],
      ] as const) {
        const move = takeoverOnWire(file, from, to, at);
        expect(move.priority).toBe(0);
        // a peer that ignored the priority-0 advert would take over a Master_Down_Interval after the last normal
        // advert, one interval before it at most: this bound tells the two apart
        expect(move.gap).toBeLessThan(mdi(100) - advertInterval);
      }
    }, 90_000);

    for (const higher of ["lbkit", "keepalived"] as const)
      it(`v${version}: equal priority after a split brain — ${higher} has the higher address and stays master`, async () => {
        // node l (198.18.0.11) has the higher address than node k (198.18.0.10)
        const kaNode = higher === "lbkit" ? "k" : "l";
        const lbNode = higher === "lbkit" ? "l" : "k";
        const drop = async (on: boolean) => {
          if (!on) return void (await lab.exec(lbNode, ["nft", "delete", "table", "inet", "vrrpcut"]));
          await lab.exec(lbNode, ["nft", "add", "table", "inet", "vrrpcut"]);
          for (const hook of ["input", "output"]) {
            const chain = `{ type filter hook ${hook} priority 0 ; }`;
            await lab.exec(lbNode, ["nft", "add", "chain", "inet", "vrrpcut", hook, chain]);
            await lab.exec(lbNode, [
              "nft",
              "add",
              "rule",
              "inet",
              "vrrpcut",
              hook,
              "ip",
              "protocol",
              "vrrp",
              "drop",
            ]);
          }
        };
        await drop(true);
        const k = startKeepalived(lab, kaNode, ka(`tie${higher}`, 100));
        const l = startLbkit(lab, lbNode, lb(`tie${higher}`, 100));
        await waitLog(k, /Entering MASTER STATE/);
        await waitEvent(l, "master");
        // split brain: both hold the VIP
        await waitVip(lab, kaNode, VIP, true);
        await waitVip(lab, lbNode, VIP, true);
        const out = k.output().length;
        const healed = Date.now();
        await drop(false);
        if (higher === "lbkit") {
          await waitLog(k, /Entering BACKUP STATE/, out);
          await waitVip(lab, kaNode, VIP, false);
        } else {
          const b = await waitEvent(l, "backup", healed);
          expect(b.reason).toBe("equal-priority-higher-address");
          await waitVip(lab, lbNode, VIP, false);
        }
        await new Promise((r) => setTimeout(r, 4 * advertInterval));
        const winner = higher === "lbkit" ? lbNode : kaNode;
        const loser = higher === "lbkit" ? kaNode : lbNode;
        expect(await vipsOn(lab, winner, VIP)).not.toEqual([]);
        expect(await vipsOn(lab, loser, VIP)).toEqual([]);
        await stopped(l, "SIGTERM");
        await stopped(k, "SIGTERM");
      }, 60_000);

    it(`v${version}: unicast peers${version === 2 ? " with PASS authentication" : ""}`, async () => {
      const K = lab.node("k").ipv4;
      const L = lab.node("l").ipv4;
      const auth = version === 2 ? "s3cr3t" : undefined;
      const cap = await lab.capture(BRIDGE, { filter: "vrrp" });
      const k = startKeepalived(
        lab,
        "k",
        ka("kuni", 150, { unicastSrc: K, unicastPeers: [L], authPass: auth }),
      );
      await waitLog(k, /Entering MASTER STATE/);
      // sourceAddress is keepalived's unicast_src_ip: the instance opens its own raw transport with it
      const l = startLbkit(
        lab,
        "l",
        lb("luni", 100, { unicastPeers: [K], sourceAddress: L, authPassword: auth }),
      );
      await waitEvent(l, "backup");
      await new Promise((r) => setTimeout(r, 4 * advertInterval));
      expect(await vipsOn(lab, "l", VIP)).toEqual([]);
      const t = Date.now();
      await stopped(k, "SIGTERM");
      const m = await waitEvent(l, "master", t);
      expect(m.reason).toBe("peer-resigned");
      await waitVip(lab, "l", VIP, true);
      // and back: keepalived (150) preempts lbkit over unicast
      const k2 = startKeepalived(
        lab,
        "k",
        ka("kuni2", 150, { unicastSrc: K, unicastPeers: [L], authPass: auth }),
      );
      const b = await waitEvent(l, "backup", Date.now() - 50);
      expect(b.reason).toBe("higher-priority");
      await waitVip(lab, "k", VIP, true);
      await stopped(l, "SIGTERM");
      await stopped(k2, "SIGTERM");
      const file = await cap.stop();
      await checkLbkitAdverts(file, L, version);
      const verbose = await decodeVerbose(file, `vrrp && ip.src == ${L}`);
      expect(verbose).toContain(`Dst: ${K}`);
      expect(verbose).not.toContain("224.0.0.18");
      if (auth) expect(verbose).toMatch(/Authentication Type: Simple Text Authentication|Auth Type: Simple/);
    }, 60_000);
  }
});

describe.skipIf(pre.skip)("vrrp: v3 interval learning against keepalived", () => {
  let lab: Lab;
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["k", "l"] });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(() => killAll());

  it("lbkit configured for 50 ms learns keepalived's 300 ms: never master once an advert was heard; takes over after 3 × 300 ms + skew", async () => {
    const k = startKeepalived(lab, "k", {
      name: "klearn",
      vrid: 81,
      priority: 150,
      version: 3,
      advertInt: 0.3,
      vip: `${VIP}/24`,
    });
    await waitLog(k, /Entering MASTER STATE/);
    const cap = await lab.capture(BRIDGE, { filter: `vrrp and src host ${lab.node("k").ipv4}` });
    const l = startLbkit(lab, "l", {
      id: "llearn",
      vrid: 81,
      version: 3,
      advertInterval: 50,
      priority: 100,
      virtualAddresses: [`${VIP}/24`],
      // started ~170 ms into keepalived's 300 ms period (after its ~70 ms startup): its next advert is due before
      // lbkit's own Master_Down_Interval (~180 ms) ends, whatever the process start latency
      startAfterAdvert: 100,
    });
    const up = await waitEvent(l, "started");
    // RFC 5798 §6.4.1: until the first advert is heard, the Master_Down_Timer runs on lbkit's own 50 ms (~180
    // ms), so lbkit may rightly be master for a moment when it starts between two of keepalived's adverts.
    // What the RFC requires: once an advert has been heard, it learns 300 ms and never becomes master again.
    await new Promise((r) => setTimeout(r, 2000));
    const heard = readPcap(await cap.stop()).records.find((r) => r.timeUs / 1000 > up.t);
    expect(heard).toBeDefined();
    const firstHeard = heard!.timeUs / 1000;
    const masters = events(l).filter((e) => e.event === "master");
    // a master event is emitted once its VIP is up: allow that much after the decision
    for (const m of masters) expect(m.t).toBeLessThan(firstHeard + 100);
    const after = events(l).filter((e) => e.t > firstHeard + 100);
    expect(after.filter((e) => e.event === "master")).toEqual([]);
    if (masters.length > 0)
      expect(events(l).find((e) => e.event === "backup" && e.from === "master")?.reason).toBe(
        "higher-priority",
      );
    expect(await vipsOn(lab, "l", VIP)).toEqual([]);
    const t = Date.now();
    await crashKeepalived(k);
    const m = await waitEvent(l, "master", t);
    const learned = 3 * 300 + ((256 - 100) * 300) / 256;
    expect(m.t - t).toBeGreaterThan(learned - 300 - 50);
    expect(m.t - t).toBeLessThan(learned + 300);
  }, 60_000);
});

describe.skipIf(pre.skip)("vrrp: planned handover to keepalived", () => {
  let lab: Lab;
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["k", "l"] });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(() => killAll());

  it("handover() on the lbkit master: keepalived takes over after Skew_Time and the promise names it", async () => {
    const k = startKeepalived(lab, "k", {
      name: "khand",
      vrid: 82,
      priority: 100,
      version: 3,
      advertInt: 0.1,
      vip: `${VIP}/24`,
    });
    await waitLog(k, /Entering BACKUP STATE/);
    const l = startLbkit(lab, "l", {
      id: "lhand",
      vrid: 82,
      version: 3,
      advertInterval: 100,
      priority: 150,
      virtualAddresses: [`${VIP}/24`],
    });
    await waitEvent(l, "master");
    await waitVip(lab, "l", VIP, true);
    const out = k.output().length;
    const t = Date.now();
    l.kill("SIGUSR1");
    const done = await waitEvent(l, "handover-done", t);
    expect(done.master).toBe(lab.node("k").ipv4);
    expect(done.t - t).toBeLessThan(500);
    await waitLog(k, /Entering MASTER STATE/, out);
    await waitVip(lab, "k", VIP, true);
    expect(await vipsOn(lab, "l", VIP)).toEqual([]);
    // lbkit stays backup at the handover priority while keepalived is master
    await new Promise((r) => setTimeout(r, 1000));
    expect(events(l).filter((e) => e.event === "master" && e.t > t)).toEqual([]);
  }, 60_000);
});

describe.skipIf(pre.skip)("vrrp: address owner (priority 255)", () => {
  let lab: Lab;
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["k", "l"] });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(() => killAll());

  it("lbkit owning the VIP is master at once, keepalived backs it up, and stopping never removes the owner's address", async () => {
    const OWN = lab.node("l").ipv4;
    // the owner runs first: were keepalived's Master_Down_Interval (361 ms) to end before the owner's process is
    // up (a loaded host), keepalived would add the owner's address and its kernel would then drop the owner's
    // adverts as coming from a local address
    const t = Date.now();
    const l = startLbkit(lab, "l", {
      id: "lown",
      vrid: 83,
      version: 3,
      advertInterval: 100,
      priority: 255,
      virtualAddresses: [`${OWN}/24`],
    });
    const m = await waitEvent(l, "master", t);
    expect(m.reason).toBe("address-owner");
    const k = startKeepalived(lab, "k", {
      name: "kown",
      vrid: 83,
      priority: 100,
      version: 3,
      advertInt: 0.1,
      vip: `${OWN}/24`,
    });
    await waitLog(k, /Entering BACKUP STATE/);
    await new Promise((r) => setTimeout(r, 500));
    expect(k.output()).not.toMatch(/Entering MASTER STATE/);
    expect(await vipsOn(lab, "k", OWN)).toEqual([]);
    const out = k.output().length;
    await stopped(l, "SIGTERM");
    await waitLog(k, /Entering MASTER STATE/, out);
    expect(await vipsOn(lab, "l", OWN)).not.toEqual([]); // the owner's own address stays
    await waitVip(lab, "k", OWN, true);
  }, 60_000);
});

describe.skipIf(pre.skip)("vrrp: IPv6 interop with keepalived 2.2 (v3 to ff02::12)", () => {
  let lab: Lab;
  const VIP6 = "2001:db8::200";
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["k", "l"], ipv6: true });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(() => killAll());

  it("keepalived master stops → lbkit takes over; lbkit stops → keepalived takes over", async () => {
    const cap = await lab.capture(BRIDGE, { filter: "ip6" });
    const ka = (name: string, priority: number): KeepalivedOptions => ({
      name,
      vrid: 71,
      priority,
      version: 3,
      advertInt: 0.1,
      vip: `${VIP6}/64`,
    });
    const k = startKeepalived(lab, "k", ka("k6", 150));
    await waitLog(k, /Entering MASTER STATE/);
    const l = startLbkit(lab, "l", {
      id: "l6",
      vrid: 71,
      version: 3,
      advertInterval: 100,
      priority: 100,
      virtualAddresses: [`${VIP6}/64`],
    });
    await waitEvent(l, "backup");
    await new Promise((r) => setTimeout(r, 500));
    expect(await vipsOn(lab, "l", VIP6)).toEqual([]);
    let t = Date.now();
    await stopped(k, "SIGTERM");
    const m = await waitEvent(l, "master", t);
    expect(m.reason).toBe("peer-resigned");
    await waitVip(lab, "l", VIP6, true);
    const k2 = startKeepalived(lab, "k", ka("k6b", 100));
    await waitLog(k2, /Entering BACKUP STATE/);
    await new Promise((r) => setTimeout(r, 500));
    expect(await vipsOn(lab, "k", VIP6)).toEqual([]);
    const out = k2.output().length;
    t = Date.now();
    await stopped(l, "SIGTERM");
    await waitLog(k2, /Entering MASTER STATE/, out, 1000);
    await waitVip(lab, "k", VIP6, true);
    await stopped(k2, "SIGTERM");
    const file = await cap.stop();
    const src = (
      await lab.exec("l", ["ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"])
    ).stdout.match(/fe80::[0-9a-f:]+/)![0];
    const verbose = await decodeVerbose(file, `vrrp && ipv6.src == ${src}`);
    expect(decodeProblems(verbose)).toEqual([]);
    const n = (verbose.match(/^Virtual Router Redundancy Protocol/gm) ?? []).length;
    expect(n).toBeGreaterThan(3);
    expect((verbose.match(/Checksum Status: Good/g) ?? []).length).toBe(n);
  }, 60_000);
});
