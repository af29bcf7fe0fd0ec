// keepalived's vrrp_sync_group on a real kernel: two lab nodes, each ONE lbkit process (test/vrrp/sync-node.mjs,
// built dist) with two VRRP instances in a sync group — VRID 51 "front" with 198.18.0.200/24 on eth0 (the lab
// network) and VRID 52 "back" with 198.18.1.200/24 on eth1 (a second network this suite adds: bridge br1 in the
// lab's bridge namespace). What the kernel (`ip addr`) and the wire (tcpdump on br0 and br1) must show: both VIPs
// always on the same node, moving together on a tracked fault of ONE member, back together on recovery, and
// handed over together on a graceful stop, with nothing left behind.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";
import { BRIDGE, createLab, type Lab, type LabProcess, requireRoot } from "./lab/netns.js";
import { decodeProblems, decodeVerbose } from "./lab/tshark.js";
import { killAll, runKeepalived, started, takeoverOnWire } from "./vrrp/helpers.js";

const pre = requireRoot(["ip", "tcpdump", "tshark"]);
const SYNC_NODE = fileURLToPath(new URL("./vrrp/sync-node.mjs", import.meta.url));
const FRONT = "198.18.0.200"; // VRID 51 on eth0
const BACK = "198.18.1.200"; // VRID 52 on eth1
const NODES = ["a", "b"] as const;
type NodeName = (typeof NODES)[number];

interface Ev {
  t: number;
  event: string;
  instance?: string;
  vrid?: number;
  reason?: string;
  from?: string;
  [k: string]: unknown;
}

const evs = (p: LabProcess): Ev[] =>
  p
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Ev);

/** Waits (polling the node's JSON lines, bounded) for an event matching `pred` at or after `after`. */
async function waitEv(
  p: LabProcess,
  what: string,
  pred: (e: Ev) => boolean,
  after = 0,
  timeoutMs = 10_000,
): Promise<Ev> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const e = evs(p).find((x) => x.t >= after && pred(x));
    if (e) return e;
    if (Date.now() > end)
      throw new Error(`no ${what} after ${after} within ${timeoutMs} ms; output:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Both members of the node's group reached `state` (at or after `after`): the two events. */
const both = (p: LabProcess, state: string, after: number) =>
  Promise.all(
    [51, 52].map((vrid) =>
      waitEv(p, `${state} of VRID ${vrid}`, (e) => e.event === state && e.vrid === vrid, after),
    ),
  );

function groupOptions(node: NodeName, priority: number, extra: Record<string, unknown> = {}) {
  return {
    group: "front-back",
    priority,
    version: 3,
    advertInterval: 100,
    instances: [
      { name: `${node}-front`, vrid: 51, interface: "eth0", vip: `${FRONT}/24` },
      // keepalived: track_interface { eth1 } in the back instance only; the sync group carries its fault
      { name: `${node}-back`, vrid: 52, interface: "eth1", vip: `${BACK}/24`, trackInterface: "eth1" },
    ],
    ...extra,
  };
}

function startGroup(lab: Lab, node: NodeName, opts: Record<string, unknown>): LabProcess {
  const p = lab.spawnNode(node, SYNC_NODE, [JSON.stringify(opts)]);
  started.push(p);
  return p;
}

/** `ip -o addr show` (every interface) in each node: which nodes hold each VIP, and the lines. */
async function placement(lab: Lab) {
  const where = { front: [] as string[], back: [] as string[], lines: [] as string[] };
  for (const n of NODES) {
    const { stdout } = await lab.exec(n, ["ip", "-o", "addr", "show"]);
    for (const l of stdout.split("\n")) {
      if (l.includes(` ${FRONT}/`)) where.front.push(n);
      if (l.includes(` ${BACK}/`)) where.back.push(n);
      if (l.includes(` ${FRONT}/`) || l.includes(` ${BACK}/`))
        where.lines.push(`${n}: ${l.replace(/\s+/g, " ").trim()}`);
    }
  }
  return where;
}

/** Polls `ip addr` until both VIPs sit exactly on `holder` (none elsewhere), or nowhere when holder is null. */
async function waitPlacement(lab: Lab, holder: NodeName | null, timeoutMs = 5000) {
  const want = holder ? [holder] : [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const w = await placement(lab);
    if (JSON.stringify(w.front) === JSON.stringify(want) && JSON.stringify(w.back) === JSON.stringify(want))
      return w;
    if (Date.now() > end)
      throw new Error(
        `VIPs not (only) on ${holder ?? "no node"} within ${timeoutMs} ms: front on [${w.front}], back on [${w.back}]`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Advert {
  t: number;
  src: string;
  vrid: number;
  prio: number;
}

function tsharkFields(file: string, filter: string, fields: string[]): Promise<string[][]> {
  const args = ["-r", file, "-Y", filter, "-T", "fields", "-E", "separator=,"];
  for (const f of fields) args.push("-e", f);
  return new Promise((resolve, reject) =>
    execFile("tshark", args, { maxBuffer: 64 * 1024 * 1024, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tshark ${args.join(" ")}: ${stderr || err.message}`));
      else
        resolve(
          stdout
            .split("\n")
            .filter((l) => l.length > 0)
            .map((l) => l.split(",")),
        );
    }),
  );
}

async function adverts(file: string): Promise<Advert[]> {
  const rows = await tsharkFields(file, "vrrp", [
    "frame.time_epoch",
    "ip.src",
    "vrrp.virt_rtr_id",
    "vrrp.prio",
  ]);
  return rows.map(([t, src, vrid, prio]) => ({
    t: Number(t) * 1000,
    src: src!,
    vrid: Number(vrid),
    prio: Number(prio),
  }));
}

/**
 * The masters one VRID had on the wire, in order: runs of ≥ 3 consecutive non-zero-priority adverts from one
 * source (a stray advert crossing a preemption does not count), with the time of the run's first advert.
 */
function masterRuns(all: Advert[], vrid: number): { src: string; t: number }[] {
  const runs: { src: string; t: number; n: number }[] = [];
  for (const a of all) {
    if (a.vrid !== vrid || a.prio === 0) continue;
    const last = runs.at(-1);
    if (last?.src === a.src) last.n++;
    else runs.push({ src: a.src, t: a.t, n: 1 });
  }
  const stable: { src: string; t: number }[] = [];
  for (const r of runs.filter((x) => x.n >= 3))
    if (stable.at(-1)?.src !== r.src) stable.push({ src: r.src, t: r.t });
  return stable;
}

/**
 * Master_Down_Interval at priority 100 and a 100 ms advert interval; and Skew_Time plus room for a busy host,
 * below Master_Down_Interval − one advert interval (261 ms), which a backup that ignored a priority-0 advert
 * would take at least.
 */
const MDI_100 = 300 + ((256 - 100) * 100) / 256;
const SKEW_ROOM = 250;

/** The node names behind a run list (the nodes' eth0 / eth1 addresses). */
function whoOf(lab: Lab, runs: { src: string }[]): string[] {
  return runs.map(({ src }) => {
    for (const [i, n] of NODES.entries())
      if (src === lab.node(n).ipv4 || src === `198.18.1.${10 + i}`) return n;
    return src;
  });
}

/** Gratuitous ARPs for `vip` (sender IP = target IP = VIP): the sender MACs. */
async function garpSenders(file: string, vip: string): Promise<string[]> {
  const rows = await tsharkFields(file, `arp.src.proto_ipv4 == ${vip} && arp.dst.proto_ipv4 == ${vip}`, [
    "arp.src.hw_mac",
  ]);
  return [...new Set(rows.map((r) => r[0]!))];
}

/** Runs of masters per VRID from the two captures must agree: same order, each move within `skewMs`. */
async function expectMovedTogether(lab: Lab, front: string, back: string, expected: string[], skewMs = 150) {
  const f = await adverts(front);
  const k = await adverts(back);
  expect(f.every((x) => x.vrid === 51)).toBe(true);
  expect(k.every((x) => x.vrid === 52)).toBe(true);
  const r51 = masterRuns(f, 51);
  const r52 = masterRuns(k, 52);
  const w51 = whoOf(lab, r51);
  const w52 = whoOf(lab, r52);
  console.log(
    `masters on the wire: VRID 51 ${w51.join(" → ")} at +${r51.map((r) => Math.round(r.t - r51[0]!.t)).join(", +")} ms; ` +
      `VRID 52 ${w52.join(" → ")} at +${r52.map((r) => Math.round(r.t - r51[0]!.t)).join(", +")} ms`,
  );
  expect(w51).toEqual(expected);
  expect(w52).toEqual(expected);
  for (const [i, r] of r51.entries()) expect(Math.abs(r.t - r52[i]!.t)).toBeLessThan(skewMs);
  // every advert on both wires decodes cleanly (checksums on)
  for (const file of [front, back]) expect(decodeProblems(await decodeVerbose(file, "vrrp"))).toEqual([]);
}

/**
 * A second network for the back VIP: bridge br1 in the lab's bridge namespace, a veth from each node (eth1,
 * 198.18.1.<10+i>/24). Everything lives in the lab's namespaces, so destroy() removes it. Returns eth1's MACs.
 */
async function addBackNetwork(lab: Lab): Promise<Record<string, string>> {
  const macs: Record<string, string> = {};
  const x = (argv: string) => lab.exec(BRIDGE, argv.split(" "));
  await x("ip link add br1 type bridge stp_state 0 forward_delay 0 mcast_snooping 0");
  await x("ip link set br1 up");
  for (const [i, n] of NODES.entries()) {
    await x(`ip link add q${i} type veth peer name eth1 netns ${lab.node(n).ns}`);
    await x(`ip link set q${i} master br1 up`);
    await lab.exec(n, ["ip", "addr", "add", `198.18.1.${10 + i}/24`, "dev", "eth1"]);
    await lab.exec(n, ["ip", "link", "set", "eth1", "up"]);
    const link = JSON.parse((await lab.exec(n, ["ip", "-j", "link", "show", "eth1"])).stdout) as {
      address: string;
    }[];
    macs[n] = link[0]!.address;
  }
  // the second network works before any VRRP runs on it
  await lab.exec("a", ["ping", "-c", "1", "-W", "2", "198.18.1.11"]);
  return macs;
}

/** After each test: links up, and no VIP left by a crashed process. */
async function resetNodes(lab: Lab) {
  for (const n of NODES) {
    await lab.exec(n, ["ip", "link", "set", "eth1", "up"]).catch(() => undefined);
    await lab.exec(n, ["ip", "addr", "del", `${FRONT}/24`, "dev", "eth0"]).catch(() => undefined);
    await lab.exec(n, ["ip", "addr", "del", `${BACK}/24`, "dev", "eth1"]).catch(() => undefined);
  }
}

describe.skipIf(pre.skip)(
  "vrrp: a sync group (two instances, one process per node) in network namespaces",
  () => {
    let lab: Lab;
    const eth1Mac: Record<string, string> = {};
    beforeAll(async () => {
      ensureBuilt("arp");
      ensureBuilt("vrrp");
      lab = await createLab({ nodes: [...NODES] });
      Object.assign(eth1Mac, await addBackNetwork(lab));
    }, 120_000);
    afterAll(() => lab?.destroy());
    afterEach(async () => {
      await killAll();
      await resetNodes(lab);
    });

    /** Starts a (priority 150) then b (100); both VIPs end on a, both of b's members backup. */
    async function electA(extra: Record<string, unknown> = {}) {
      const t0 = Date.now();
      const a = startGroup(lab, "a", groupOptions("a", 150, extra));
      await waitEv(a, "started", (e) => e.event === "started");
      const b = startGroup(lab, "b", groupOptions("b", 100, extra));
      const am = await both(a, "master", t0);
      await both(b, "backup", t0);
      // together: the second member followed the first at once
      expect(Math.abs(am[0]!.t - am[1]!.t)).toBeLessThan(50);
      const w = await waitPlacement(lab, "a");
      // the kernel's view: each VIP on its own interface with the instance's label
      expect(w.lines.some((l) => l.includes(`inet ${FRONT}/24`) && l.includes("eth0:vrrp51"))).toBe(true);
      expect(w.lines.some((l) => l.includes(`inet ${BACK}/24`) && l.includes("eth1:vrrp52"))).toBe(true);
      console.log(`ip addr after the election:\n  ${w.lines.join("\n  ")}`);
      return { a, b };
    }

    it("a tracked interface (eth1) going down on the master moves BOTH VIPs to the backup; up moves both back", async () => {
      const capFront = await lab.capture(BRIDGE, { filter: "vrrp or arp", name: "if-front" });
      const capBack = await lab.capture(BRIDGE, { filter: "vrrp or arp", iface: "br1", name: "if-back" });
      const { a, b } = await electA();
      await new Promise((r) => setTimeout(r, 300)); // a few adverts from a on both wires

      // eth1 down on a: the back instance faults (track_interface), the group takes the front with it
      const down = Date.now();
      await lab.exec("a", ["ip", "link", "set", "eth1", "down"]);
      const af = await both(a, "fault", down);
      expect(af.map((e) => e.from)).toEqual(["master", "master"]);
      expect(af.map((e) => e.reason)).toEqual(["fault", "fault"]);
      const bm = await both(b, "master", down);
      expect(Math.abs(bm[0]!.t - bm[1]!.t)).toBeLessThan(50);
      // b moved only once the faulted back instance's Master_Down_Interval (≈ 361 ms at priority 100) had passed:
      // the front alone (priority-0 advert, Skew_Time) did not take over early (both checked on the wire below)
      const wb = await waitPlacement(lab, "b");
      console.log(`ip addr with a's eth1 down:\n  ${wb.lines.join("\n  ")}`);
      // no member of a left holding anything, and a's front is in fault because of the group, not its own
      expect(evs(a).filter((e) => e.t >= down && e.event === "master")).toEqual([]);

      // eth1 up: a's back leaves fault, the group fault on its front clears, a preempts with both
      await new Promise((r) => setTimeout(r, 300));
      const up = Date.now();
      await lab.exec("a", ["ip", "link", "set", "eth1", "up"]);
      const ab = await both(a, "backup", up);
      expect(ab.map((e) => e.reason)).toEqual(["fault-cleared", "fault-cleared"]);
      const am = await both(a, "master", up);
      expect(Math.abs(am[0]!.t - am[1]!.t)).toBeLessThan(50);
      await both(b, "backup", up);
      const wa = await waitPlacement(lab, "a");
      console.log(`ip addr after eth1 up:\n  ${wa.lines.join("\n  ")}`);
      await new Promise((r) => setTimeout(r, 300));

      for (const p of [a, b]) p.kill("SIGTERM");
      await Promise.all([a.exited, b.exited]);
      await waitPlacement(lab, null);
      const front = await capFront.stop();
      const back = await capBack.stop();
      await expectMovedTogether(lab, front, back, ["a", "b", "a"]);
      // the back moved a Master_Down_Interval after a's last advert there, and the front (where a resigned with
      // priority 0) moved with it, not a Skew_Time after that resignation; both captures share this host's clock
      const silent = takeoverOnWire(back, "198.18.1.10", "198.18.1.11", down);
      expect(silent.priority).toBeGreaterThan(0);
      expect(silent.gap).toBeGreaterThanOrEqual(MDI_100 - 5);
      const bFront = (await adverts(front)).find(
        (x) => x.vrid === 51 && x.src === lab.node("b").ipv4 && x.prio > 0 && x.t >= down,
      );
      expect(bFront, "b's first VRID 51 advert").toBeDefined();
      const lastBackA = (await adverts(back))
        .filter((x) => x.src === "198.18.1.10" && x.t < bFront!.t)
        .at(-1);
      expect(lastBackA, "a's last VRID 52 advert before it").toBeDefined();
      expect(bFront!.t - lastBackA!.t).toBeGreaterThanOrEqual(MDI_100 - 5);
      // each takeover announced the VIP on its own network, from the new holder's MAC
      expect(await garpSenders(front, FRONT)).toEqual(
        expect.arrayContaining([lab.node("a").mac, lab.node("b").mac]),
      );
      expect(await garpSenders(back, BACK)).toEqual(expect.arrayContaining([eth1Mac.a, eth1Mac.b]));
    }, 60_000);

    it("overlapping faults: the group stays on the backup until the last member's own fault clears", async () => {
      const capFront = await lab.capture(BRIDGE, { filter: "vrrp", name: "ov-front" });
      const capBack = await lab.capture(BRIDGE, { filter: "vrrp", iface: "br1", name: "ov-back" });
      const { a, b } = await electA({ signalFault: "a-front" });
      await new Promise((r) => setTimeout(r, 300));
      const down = Date.now();
      await lab.exec("a", ["ip", "link", "set", "eth1", "down"]);
      await both(a, "fault", down);
      await both(b, "master", down);
      await waitPlacement(lab, "b");

      // a's front fails on its own too while the group already holds it in fault (no transition on a)
      const f = Date.now();
      a.kill("SIGUSR2");
      await waitEv(a, "the flip", (e) => e.event === "flip" && e.fault === true, f);
      // eth1 up: a's back clears its own fault but its front still has one, so the back returns to fault
      const up = Date.now();
      await lab.exec("a", ["ip", "link", "set", "eth1", "up"]);
      const cleared = await waitEv(a, "back fault-cleared", (e) => e.vrid === 52 && e.event === "backup", up);
      expect(cleared.reason).toBe("fault-cleared");
      const again = await waitEv(a, "back fault again", (e) => e.vrid === 52 && e.event === "fault", up);
      expect(again.from).toBe("backup");
      // nothing moves for longer than a's Master_Down_Interval (≈ 341 ms): b keeps both, a takes neither
      await new Promise((r) => setTimeout(r, 800));
      expect(evs(a).filter((e) => e.t >= up && e.event === "master")).toEqual([]);
      expect(evs(b).filter((e) => e.t >= up && e.event !== "master" && e.vrid !== undefined)).toEqual([]);
      const still = await waitPlacement(lab, "b", 0);
      console.log(
        `ip addr with a's eth1 up again but its front still failing:\n  ${still.lines.join("\n  ")}`,
      );

      // the front's own fault clears: the group leaves fault and a preempts with both VIPs
      const r = Date.now();
      a.kill("SIGUSR2");
      const ab = await both(a, "backup", r);
      expect(ab.map((e) => e.reason)).toEqual(["fault-cleared", "fault-cleared"]);
      await both(a, "master", r);
      await both(b, "backup", r);
      await waitPlacement(lab, "a");
      await new Promise((r2) => setTimeout(r2, 300));
      for (const p of [a, b]) p.kill("SIGTERM");
      await Promise.all([a.exited, b.exited]);
      await waitPlacement(lab, null);
      await expectMovedTogether(lab, await capFront.stop(), await capBack.stop(), ["a", "b", "a"]);
    }, 60_000);

    it("a crash of the master (SIGKILL, no priority-0 advert) moves both VIPs; the restarted node clears its stale VIPs and takes both back", async () => {
      const capFront = await lab.capture(BRIDGE, { filter: "vrrp", name: "crash-front" });
      const capBack = await lab.capture(BRIDGE, { filter: "vrrp", iface: "br1", name: "crash-back" });
      const { a, b } = await electA();
      await new Promise((r) => setTimeout(r, 300));
      const k = Date.now();
      a.kill("SIGKILL");
      await a.exited;
      const bm = await both(b, "master", k);
      expect(Math.abs(bm[0]!.t - bm[1]!.t)).toBeLessThan(50);
      // Master_Down_Interval at priority 100 is 300 + 60.9 ms from a's last adverts (checked on the wire below)
      expect(bm[0]!.t - k).toBeLessThan(5000);
      // nothing removed the crashed node's VIPs: both nodes hold them until a comes back
      const crashed = await placement(lab);
      expect(crashed.front.sort()).toEqual(["a", "b"]);
      expect(crashed.back.sort()).toEqual(["a", "b"]);

      // a restarts: start() removes the stale VIPs before anything else, then a preempts with both
      const r = Date.now();
      const a2 = startGroup(lab, "a", groupOptions("a", 150));
      await both(a2, "master", r);
      await both(b, "backup", r);
      const w = await waitPlacement(lab, "a");
      console.log(`ip addr after a's restart:\n  ${w.lines.join("\n  ")}`);
      await new Promise((r2) => setTimeout(r2, 300));
      for (const p of [a2, b]) p.kill("SIGTERM");
      await Promise.all([a2.exited, b.exited]);
      await waitPlacement(lab, null);
      const front = await capFront.stop();
      await expectMovedTogether(lab, front, await capBack.stop(), ["a", "b", "a"]);
      const crash = takeoverOnWire(front, lab.node("a").ipv4, lab.node("b").ipv4, k);
      expect(crash.priority).toBeGreaterThan(0); // no resignation from a killed process
      expect(crash.gap).toBeGreaterThanOrEqual(MDI_100 - 5);
      expect(crash.gap).toBeLessThan(MDI_100 + 1000);
    }, 60_000);

    it("a planned handover() of ONE member hands over both VIPs within Skew_Time; resume() takes both back", async () => {
      const capFront = await lab.capture(BRIDGE, { filter: "vrrp", name: "ho-front" });
      const capBack = await lab.capture(BRIDGE, { filter: "vrrp", iface: "br1", name: "ho-back" });
      const { a, b } = await electA();
      await new Promise((r) => setTimeout(r, 300));
      const h = Date.now();
      a.kill("SIGUSR1"); // a-front.handover()
      const bm = await both(b, "master", h);
      expect(Math.abs(bm[0]!.t - bm[1]!.t)).toBeLessThan(50);
      // both of a's members resigned with priority 0: Skew_Time (61 ms), not Master_Down_Interval (361 ms); timed
      // on the wire below
      const ab = await both(a, "backup", h);
      expect(ab.map((e) => e.reason)).toEqual(["handover", "sync-group"]);
      const done = await waitEv(a, "handover-done", (e) => e.event === "handover-done", h);
      expect(done.master).toBe(lab.node("b").ipv4);
      const w = await waitPlacement(lab, "b");
      console.log(`ip addr after a-front.handover():\n  ${w.lines.join("\n  ")}`);
      // a stays handed over (front at priority 1): nothing moves back by itself
      await new Promise((r) => setTimeout(r, 800));
      expect(evs(a).filter((e) => e.t >= h && e.event === "master")).toEqual([]);
      await waitPlacement(lab, "b", 0);

      const r = Date.now();
      a.kill("SIGUSR1"); // resume()
      await both(a, "master", r);
      await both(b, "backup", r);
      await waitPlacement(lab, "a");
      await new Promise((r2) => setTimeout(r2, 300));
      for (const p of [a, b]) p.kill("SIGTERM");
      await Promise.all([a.exited, b.exited]);
      await waitPlacement(lab, null);
      const front = await capFront.stop();
      const back = await capBack.stop();
      await expectMovedTogether(lab, front, back, ["a", "b", "a"]);
      // on the wire: the follower (VRID 52) resigned with a priority-0 advert right before b took it
      const k = await adverts(back);
      const tookAt = masterRuns(k, 52)[1]!.t;
      const resigned = k.filter((x) => x.prio === 0 && x.src === "198.18.1.10" && x.t <= tookAt);
      expect(resigned.length).toBe(1);
      expect(tookAt - resigned[0]!.t).toBeLessThan(SKEW_ROOM);
      const fromFront = takeoverOnWire(front, lab.node("a").ipv4, lab.node("b").ipv4, h);
      expect(fromFront.priority).toBe(0);
      expect(fromFront.gap).toBeLessThan(SKEW_ROOM);
    }, 60_000);

    it("a tracker flipped by a signal moves the group and back; a graceful stop hands over both VIPs; nothing is left behind", async () => {
      const capFront = await lab.capture(BRIDGE, { filter: "vrrp or arp", name: "sig-front" });
      const capBack = await lab.capture(BRIDGE, { filter: "vrrp or arp", iface: "br1", name: "sig-back" });
      // SIGUSR2 flips a fault tracker on the FRONT member only (e.g. a failing health check)
      const { a, b } = await electA({ signalFault: "a-front" });
      await new Promise((r) => setTimeout(r, 300));

      const f = Date.now();
      a.kill("SIGUSR2");
      await waitEv(a, "flip", (e) => e.event === "flip" && e.fault === true, f);
      await both(a, "fault", f);
      const bm = await both(b, "master", f);
      expect(Math.abs(bm[0]!.t - bm[1]!.t)).toBeLessThan(50);
      // both of a's members resigned with priority 0: b takes over after Skew_Time, not Master_Down_Interval
      // (timed on the wire below)
      await waitPlacement(lab, "b");

      await new Promise((r) => setTimeout(r, 300));
      const r = Date.now();
      a.kill("SIGUSR2");
      await waitEv(a, "flip", (e) => e.event === "flip" && e.fault === false, r);
      await both(a, "master", r);
      await both(b, "backup", r);
      await waitPlacement(lab, "a");
      await new Promise((r2) => setTimeout(r2, 300));

      // graceful stop of the master: every member sends priority 0 and removes its VIP; b takes both
      const s = Date.now();
      a.kill("SIGTERM");
      expect((await a.exited).code).toBe(0);
      expect(evs(a).find((e) => e.event === "exit")).toBeTruthy();
      expect(
        evs(a)
          .filter((e) => e.event === "stop" && e.t >= s)
          .map((e) => e.from),
      ).toEqual(["master", "master"]);
      const bs = await both(b, "master", s);
      expect(Math.abs(bs[0]!.t - bs[1]!.t)).toBeLessThan(50);
      const ws = await waitPlacement(lab, "b"); // and nothing on a
      console.log(`ip addr after a's graceful stop:\n  ${ws.lines.join("\n  ")}`);
      await new Promise((r2) => setTimeout(r2, 300));

      const e = Date.now();
      b.kill("SIGTERM");
      expect((await b.exited).code).toBe(0);
      expect(
        evs(b)
          .filter((x) => x.event === "stop" && x.t >= e)
          .map((x) => x.from),
      ).toEqual(["master", "master"]);
      const none = await placement(lab);
      expect(none).toEqual({ front: [], back: [], lines: [] }); // no VIP left on either node
      expect(evs(b).filter((x) => x.event === "error")).toEqual([]);
      expect(evs(a).filter((x) => x.event === "error")).toEqual([]);

      const front = await capFront.stop();
      const back = await capBack.stop();
      await expectMovedTogether(lab, front, back, ["a", "b", "a", "b"]);
      // the fault flip and the graceful stop: a resigned, and b took over within Skew_Time of it, on both wires
      // (each capture holds one VRID: expectMovedTogether checked it)
      for (const [file, src] of [
        [front, (n: NodeName) => lab.node(n).ipv4],
        [back, (n: NodeName) => `198.18.1.${10 + NODES.indexOf(n)}`],
      ] as const) {
        for (const at of [f, s]) {
          const move = takeoverOnWire(file, src("a"), src("b"), at);
          expect(move.priority).toBe(0);
          expect(move.gap).toBeLessThan(SKEW_ROOM);
        }
      }
      // the graceful stops are on the wire: priority-0 adverts from a and then b for both VRIDs
      for (const [file, vrid] of [
        [front, 51],
        [back, 52],
      ] as const) {
        const zero = (await adverts(file)).filter((x) => x.prio === 0 && x.vrid === vrid).map((x) => x.src);
        expect(
          whoOf(
            lab,
            zero.map((src) => ({ src })),
          ),
        ).toEqual(expect.arrayContaining(["a", "b"]));
      }
    }, 60_000);
  },
);

const preKa = requireRoot(["ip", "tcpdump", "tshark", "keepalived"]);

/** keepalived 2.2 on node b with the same two instances in a vrrp_sync_group (track_interface eth1 on VI_52). */
function startKeepalivedGroup(lab: Lab, name: string): LabProcess {
  const instance = (vrid: number, ifname: string, vip: string, track: boolean) => [
    `vrrp_instance VI_${vrid} {`,
    "  state BACKUP",
    `  interface ${ifname}`,
    `  virtual_router_id ${vrid}`,
    "  priority 100",
    "  advert_int 0.1",
    ...(track ? ["  track_interface {", `    ${ifname}`, "  }"] : []),
    "  virtual_ipaddress {",
    `    ${vip}/24 dev ${ifname}`,
    "  }",
    "}",
  ];
  const lines = [
    "global_defs {",
    `  router_id ${name}`,
    "  vrrp_version 3",
    "  vrrp_garp_master_delay 5",
    "  enable_script_security",
    "  script_user root",
    "}",
    "vrrp_sync_group G_front_back {",
    "  group {",
    "    VI_51",
    "    VI_52",
    "  }",
    "}",
    ...instance(51, "eth0", FRONT, false),
    ...instance(52, "eth1", BACK, true),
  ];
  return runKeepalived(lab, "b", name, lines);
}

describe.skipIf(preKa.skip)("vrrp: an lbkit sync group against a keepalived 2.2 vrrp_sync_group", () => {
  let lab: Lab;
  beforeAll(async () => {
    ensureBuilt("arp");
    ensureBuilt("vrrp");
    lab = await createLab({ nodes: [...NODES] });
    await addBackNetwork(lab);
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(async () => {
    await killAll();
    await resetNodes(lab);
  });

  it("both VIPs move between the lbkit group (a, 150) and keepalived's group (b, 100) together, both ways", async () => {
    const capFront = await lab.capture(BRIDGE, { filter: "vrrp", name: "ka-front" });
    const capBack = await lab.capture(BRIDGE, { filter: "vrrp", iface: "br1", name: "ka-back" });
    const t0 = Date.now();
    const a = startGroup(lab, "a", groupOptions("a", 150));
    await both(a, "master", t0);
    const k = startKeepalivedGroup(lab, "kgroup");
    await k.waitFor(/VI_52.*Entering BACKUP STATE/, 10_000);
    await new Promise((r) => setTimeout(r, 500)); // keepalived stays backup with lbkit as master
    await waitPlacement(lab, "a", 0);

    // eth1 down on a: lbkit's whole group faults, keepalived's group takes both VIPs
    const down = Date.now();
    await lab.exec("a", ["ip", "link", "set", "eth1", "down"]);
    await both(a, "fault", down);
    const wk = await waitPlacement(lab, "b");
    console.log(`ip addr, keepalived holding both:\n  ${wk.lines.join("\n  ")}`);

    // eth1 up: lbkit's group preempts keepalived's with both VIPs
    const up = Date.now();
    await lab.exec("a", ["ip", "link", "set", "eth1", "up"]);
    await both(a, "master", up);
    await waitPlacement(lab, "a");
    await new Promise((r) => setTimeout(r, 300));

    // graceful stop of the lbkit group: keepalived takes both after Skew_Time
    a.kill("SIGTERM");
    expect((await a.exited).code).toBe(0);
    await waitPlacement(lab, "b", 2000);

    // lbkit comes back and preempts both; keepalived stops cleanly; nothing is left anywhere
    const r = Date.now();
    const a2 = startGroup(lab, "a", groupOptions("a", 150));
    await both(a2, "master", r);
    await waitPlacement(lab, "a");
    await new Promise((r2) => setTimeout(r2, 300));
    k.kill("SIGTERM");
    await k.exited;
    await waitPlacement(lab, "a", 0);
    a2.kill("SIGTERM");
    await a2.exited;
    await waitPlacement(lab, null, 0);
    expect(k.output()).toMatch(/VRRP_Group\(G_front_back\)|G_front_back/);
    await expectMovedTogether(lab, await capFront.stop(), await capBack.stop(), ["a", "b", "a", "b", "a"]);
  }, 60_000);
});
