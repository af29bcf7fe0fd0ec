// Two lbkit VRRP nodes in network namespaces on a real bridge: election, VIP on the kernel interface, failover
// on a crash, graceful handover, tshark-clean adverts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BRIDGE, createLab, type Lab, requireRoot } from "./lab/netns.js";
import { readPcap } from "./lab/pcap.js";
import { decodeProblems, decodeVerbose } from "./lab/tshark.js";
import {
  buildVrrp,
  events,
  killAll,
  startLbkit,
  takeoverOnWire,
  vipsOn,
  waitEvent,
  waitVip,
} from "./vrrp/helpers.js";

const pre = requireRoot(["ip", "tcpdump", "tshark"]);
const VIP = "198.18.0.200";

describe.skipIf(pre.skip)("vrrp: two lbkit nodes in network namespaces", () => {
  let lab: Lab;
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["a", "b", "c"] });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(async () => {
    await killAll();
    for (const n of ["a", "b", "c"])
      await lab.exec(n, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"]).catch(() => undefined);
  });

  it("v3 at 100 ms: elects a master, the VIP moves on a crash, and on a graceful stop; adverts decode cleanly", async () => {
    const cap = await lab.capture(BRIDGE, { filter: "vrrp or arp" });
    const base = { vrid: 51, version: 3, advertInterval: 100, virtualAddresses: [`${VIP}/24`] };
    const a = startLbkit(lab, "a", { ...base, priority: 150, id: "a" });
    const b = startLbkit(lab, "b", { ...base, priority: 100, id: "b" });
    await waitEvent(a, "master");
    await waitEvent(b, "backup");
    await waitVip(lab, "a", VIP, true);
    const line = (await vipsOn(lab, "a", VIP))[0]!;
    expect(line).toContain(`${VIP}/24`);
    expect(line).toContain("eth0:vrrp51"); // the label
    expect(await vipsOn(lab, "b", VIP)).toEqual([]);

    // a crashes (SIGKILL: no priority-0 advert): b takes over after Master_Down_Interval
    await new Promise((r) => setTimeout(r, 500));
    const killed = Date.now();
    a.kill("SIGKILL");
    await a.exited;
    const bm = await waitEvent(b, "master", killed);
    expect(bm.reason).toBe("master-down-timer");
    const mdi = 3 * 100 + ((256 - 100) * 100) / 256;
    expect(bm.t - killed).toBeLessThan(mdi + 5000); // timed on the wire below
    await waitVip(lab, "b", VIP, true);
    // the crashed node's namespace still has the VIP (nothing removed it): delete it like a reboot would
    await lab.exec("a", ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"]);

    // a comes back with the higher priority: preempts b
    const back = Date.now();
    const a2 = startLbkit(lab, "a", { ...base, priority: 150, id: "a2" });
    await waitEvent(a2, "master", back);
    const bb = await waitEvent(b, "backup", back);
    expect(bb.reason).toBe("higher-priority");
    await waitVip(lab, "b", VIP, false);
    await waitVip(lab, "a", VIP, true);

    // graceful stop of a2: priority 0, b takes over after Skew_Time only
    const stopAt = Date.now();
    a2.kill("SIGTERM");
    await a2.exited;
    const bm2 = await waitEvent(b, "master", stopAt);
    expect(bm2.reason).toBe("peer-resigned"); // Skew_Time, timed on the wire below
    expect(await vipsOn(lab, "a", VIP)).toEqual([]); // no VIP left behind on a clean stop
    await waitVip(lab, "b", VIP, true);
    b.kill("SIGTERM");
    await b.exited;
    expect(await vipsOn(lab, "b", VIP)).toEqual([]);
    expect(events(b).find((e) => e.event === "exit")).toBeTruthy();

    const file = await cap.stop();
    // on the wire: after the crash b waited a Master_Down_Interval from a's last advert; after the graceful stop,
    // only Skew_Time (61 ms, with room for a busy host) from a2's priority-0 advert
    const A = lab.node("a").ipv4;
    const B = lab.node("b").ipv4;
    const crash = takeoverOnWire(file, A, B, killed);
    expect(crash.priority).toBeGreaterThan(0);
    expect(crash.gap).toBeGreaterThanOrEqual(mdi - 5);
    expect(crash.gap).toBeLessThan(mdi + 1000);
    const graceful = takeoverOnWire(file, A, B, stopAt);
    expect(graceful.priority).toBe(0);
    // below Master_Down_Interval − one advert interval (261 ms): a backup that ignored the priority-0 advert
    // would take over no sooner
    expect(graceful.gap).toBeLessThan(250);
    const verbose = await decodeVerbose(file, "vrrp");
    expect(decodeProblems(verbose)).toEqual([]);
    const adverts = (verbose.match(/^Virtual Router Redundancy Protocol/gm) ?? []).length;
    expect(adverts).toBeGreaterThan(10);
    expect(verbose).toContain("Time to Live: 255");
    expect(verbose).toContain("Differentiated Services Field: 0xc0"); // TOS 0xc0, as keepalived
    expect(verbose).toContain("Version 3, Packet type 1 (Advertisement)");
    expect(verbose).toMatch(/Checksum Status: Good/);
    expect(readPcap(file).records.length).toBeGreaterThan(10);
    // every takeover announced the VIP: gratuitous ARPs (sender IP = target IP = VIP) from b's and a's MACs
    const garps = await decodeVerbose(file, `arp.src.proto_ipv4 == ${VIP} && arp.dst.proto_ipv4 == ${VIP}`);
    expect(decodeProblems(garps)).toEqual([]);
    const senders = garps.split("\n").filter((l) => l.includes("Sender MAC address:"));
    for (const n of ["a", "b"]) expect(senders.some((l) => l.includes(lab.node(n).mac))).toBe(true);
    expect(
      (garps.match(/^Address Resolution Protocol \(request\/gratuitous ARP\)/gm) ?? []).length,
    ).toBeGreaterThanOrEqual(15);
  }, 60_000);

  it("v2 with PASS auth and 1 s adverts: a wrong password is discarded and does not stop a takeover", async () => {
    const base = { vrid: 52, version: 2, advertInterval: 1000, virtualAddresses: [`${VIP}/24`] };
    const a = startLbkit(lab, "a", { ...base, priority: 150, authPassword: "s3cr3t", id: "a" });
    const b = startLbkit(lab, "b", { ...base, priority: 100, authPassword: "s3cr3t", id: "b" });
    const c = startLbkit(lab, "c", { ...base, priority: 200, authPassword: "wrong", id: "c" });
    await waitEvent(a, "master", 0, 10_000);
    await waitEvent(b, "backup");
    const d = await waitEvent(a, "discard");
    expect(d.reason).toBe("auth");
    expect(d.src).toBe(lab.node("c").ipv4);
    await waitVip(lab, "a", VIP, true);
    for (const p of [a, b, c]) p.kill("SIGTERM");
    await Promise.all([a.exited, b.exited, c.exited]);
    for (const n of ["a", "b", "c"]) expect(await vipsOn(lab, n, VIP)).toEqual([]);
  }, 60_000);

  it("restarted on a transport it was given, a backup keeps hearing a priority-250 master and sends once master", async () => {
    const B = lab.node("b").ipv4;
    const base = { vrid: 57, version: 3, advertInterval: 100, virtualAddresses: [`${VIP}/24`] };
    const cap = await lab.capture(BRIDGE, { filter: "vrrp" });
    const a = startLbkit(lab, "a", { ...base, priority: 250, id: "a" });
    await waitEvent(a, "master");
    const b = startLbkit(lab, "b", { ...base, priority: 100, id: "b", callerTransport: true, restarts: 3 });
    await waitEvent(b, "started");
    expect(
      events(b)
        .filter((e) => e.event === "restarted")
        .map((e) => e.state),
    ).toEqual(["backup", "backup", "backup"]);
    await new Promise((r) => setTimeout(r, 1000));
    // it hears the master: never master, never an error (before the fix: "transport closed", two masters)
    expect(events(b).filter((e) => ["master", "error"].includes(e.event))).toEqual([]);
    expect(await vipsOn(lab, "b", VIP)).toEqual([]);
    const t = Date.now();
    a.kill("SIGTERM");
    const m = await waitEvent(b, "master", t);
    expect(m.reason).toBe("peer-resigned");
    await waitVip(lab, "b", VIP, true);
    await new Promise((r) => setTimeout(r, 300));
    b.kill("SIGTERM");
    await b.exited;
    const exit = events(b).find((e) => e.event === "exit") as { stats?: { advertsSent: number } } | undefined;
    expect(exit?.stats?.advertsSent).toBeGreaterThan(2);
    // and its adverts are on the wire
    expect(await decodeVerbose(await cap.stop(), `vrrp && ip.src == ${B}`)).toContain("Virtual Rtr ID: 57");
  }, 60_000);

  it("unicast peers (no multicast): election and failover", async () => {
    const A = lab.node("a").ipv4;
    const B = lab.node("b").ipv4;
    const base = { vrid: 53, version: 3, advertInterval: 100, virtualAddresses: [`${VIP}/24`] };
    const cap = await lab.capture(BRIDGE, { filter: "vrrp" });
    const a = startLbkit(lab, "a", { ...base, priority: 150, unicastPeers: [B], id: "a" });
    const b = startLbkit(lab, "b", { ...base, priority: 100, unicastPeers: [A], id: "b" });
    await waitEvent(a, "master");
    await waitEvent(b, "backup");
    await new Promise((r) => setTimeout(r, 300));
    const t = Date.now();
    a.kill("SIGTERM");
    await waitEvent(b, "master", t);
    await waitVip(lab, "b", VIP, true);
    b.kill("SIGTERM");
    await b.exited;
    const verbose = await decodeVerbose(await cap.stop(), "vrrp");
    expect(decodeProblems(verbose)).toEqual([]);
    expect(verbose).not.toContain("224.0.0.18");
    expect(verbose).toContain(`Dst: ${B}`);
  }, 60_000);

  it("handover (SIGUSR1 → handover()) moves the VIP and resolves with the new master", async () => {
    const base = { vrid: 54, version: 3, advertInterval: 100, virtualAddresses: [`${VIP}/24`] };
    const a = startLbkit(lab, "a", { ...base, priority: 150, id: "a" });
    const b = startLbkit(lab, "b", { ...base, priority: 100, id: "b" });
    await waitEvent(a, "master");
    await waitEvent(b, "backup");
    const t = Date.now();
    a.kill("SIGUSR1");
    const done = await waitEvent(a, "handover-done", t);
    expect(done.master).toBe(lab.node("b").ipv4);
    await waitVip(lab, "b", VIP, true);
    expect(await vipsOn(lab, "a", VIP)).toEqual([]);
    // a tracked fault on b (SIGUSR2) sends b to FAULT; a (still at handover priority 1) takes the VIP
    const f = Date.now();
    b.kill("SIGUSR2");
    await waitEvent(b, "fault", f);
    await waitEvent(a, "master", f);
    await waitVip(lab, "a", VIP, true);
    for (const p of [a, b]) p.kill("SIGTERM");
    await Promise.all([a.exited, b.exited]);
  }, 60_000);
});

describe.skipIf(pre.skip)("vrrp: track_interface", () => {
  let lab: Lab;
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["a", "b"] });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(() => killAll());

  it("eth0 down → FAULT and the VIP leaves; eth0 up → back to backup, then preempts", async () => {
    const base = {
      vrid: 55,
      version: 3,
      advertInterval: 100,
      virtualAddresses: [`${VIP}/24`],
      trackEth0: true,
    };
    const a = startLbkit(lab, "a", { ...base, priority: 150, id: "a" });
    const b = startLbkit(lab, "b", { ...base, priority: 100, id: "b" });
    await waitEvent(a, "master");
    await waitEvent(b, "backup");
    await waitVip(lab, "a", VIP, true);
    const t = Date.now();
    await lab.exec("a", ["ip", "link", "set", "eth0", "down"]);
    const f = await waitEvent(a, "fault", t);
    expect(f.from).toBe("master");
    await waitEvent(b, "master", t);
    await waitVip(lab, "a", VIP, false);
    await waitVip(lab, "b", VIP, true);
    const u = Date.now();
    await lab.exec("a", ["ip", "link", "set", "eth0", "up"]);
    const back = await waitEvent(a, "backup", u);
    expect(back.reason).toBe("fault-cleared");
    await waitEvent(a, "master", u);
    await waitVip(lab, "a", VIP, true);
    await waitVip(lab, "b", VIP, false);
  }, 60_000);
});

describe.skipIf(pre.skip)("vrrp: accept_mode", () => {
  let lab: Lab;
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["a", "c"] });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(() => killAll());

  it("acceptMode false: a non-owner master holds the VIP but drops traffic to it (nftables); nothing left at stop", async () => {
    const a = startLbkit(lab, "a", {
      id: "a",
      vrid: 58,
      version: 3,
      advertInterval: 100,
      priority: 150,
      acceptMode: false,
      virtualAddresses: [`${VIP}/24`],
    });
    await waitEvent(a, "master");
    await waitVip(lab, "a", VIP, true);
    expect((await lab.exec("a", ["nft", "list", "table", "inet", "lbkit_vrrp_58"])).stdout).toContain(
      `ip daddr ${VIP} drop`,
    );
    await expect(lab.exec("c", ["ping", "-c", "1", "-W", "1", VIP])).rejects.toThrow();
    await lab.exec("c", ["ping", "-c", "1", "-W", "2", lab.node("a").ipv4]); // the node itself still answers
    a.kill("SIGTERM");
    await a.exited;
    expect(await vipsOn(lab, "a", VIP)).toEqual([]);
    await expect(lab.exec("a", ["nft", "list", "table", "inet", "lbkit_vrrp_58"])).rejects.toThrow();
  }, 60_000);
});

describe.skipIf(pre.skip)("vrrp: VMAC (use_vmac)", () => {
  let lab: Lab;
  const VMAC = "00:00:5e:00:01:39"; // VRID 57
  const vipOnVmac = async (n: string) =>
    (
      await lab.exec(n, ["ip", "-o", "addr", "show", "dev", "vrrp.57"]).catch(() => ({ stdout: "" }))
    ).stdout.includes(` ${VIP}/24`);
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["a", "b", "c"] });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(() => killAll());

  it("the VIP lives on a 00:00:5e:00:01:VRID macvlan; a client's ARP entry survives failover", async () => {
    const base = { vrid: 57, version: 3, advertInterval: 100, virtualAddresses: [`${VIP}/24`], vmac: true };
    const a = startLbkit(lab, "a", { ...base, priority: 150, id: "a" });
    const b = startLbkit(lab, "b", { ...base, priority: 100, id: "b" });
    await waitEvent(a, "master");
    await waitEvent(b, "backup");
    const link = (await lab.exec("a", ["ip", "-d", "link", "show", "vrrp.57"])).stdout;
    expect(link).toContain(`link/ether ${VMAC}`);
    expect(link).toContain("macvlan mode private");
    expect(await vipOnVmac("a")).toBe(true);
    expect(await vipsOn(lab, "a", VIP)).toEqual([]); // not on eth0
    await lab.exec("c", ["ping", "-c", "1", "-W", "2", VIP]);
    expect((await lab.exec("c", ["ip", "neigh", "show", VIP])).stdout).toContain(`lladdr ${VMAC}`);

    const t = Date.now();
    a.kill("SIGKILL");
    await a.exited;
    await lab.exec("a", ["ip", "link", "del", "vrrp.57"]); // the crashed node is gone (as after a reboot)
    await waitEvent(b, "master", t);
    expect(await vipOnVmac("b")).toBe(true);
    await lab.exec("c", ["ping", "-c", "1", "-W", "2", VIP]);
    expect((await lab.exec("c", ["ip", "neigh", "show", VIP])).stdout).toContain(`lladdr ${VMAC}`);

    b.kill("SIGTERM");
    await b.exited;
    await expect(lab.exec("b", ["ip", "link", "show", "vrrp.57"])).rejects.toThrow(); // removed on a clean stop
  }, 60_000);
});

describe.skipIf(pre.skip)("vrrp: IPv6 (v3 to ff02::12) between two lbkit nodes", () => {
  let lab: Lab;
  const VIP6 = "2001:db8::200";
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["a", "b"], ipv6: true });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(() => killAll());

  it("elects, moves the IPv6 VIP on a crash, sends unsolicited NAs; adverts decode cleanly", async () => {
    const cap = await lab.capture(BRIDGE, { filter: "ip6" });
    const base = { vrid: 61, version: 3, advertInterval: 100, virtualAddresses: [`${VIP6}/64`] };
    const a = startLbkit(lab, "a", { ...base, priority: 150, id: "a" });
    const b = startLbkit(lab, "b", { ...base, priority: 100, id: "b" });
    await waitEvent(a, "master");
    await waitEvent(b, "backup");
    await waitVip(lab, "a", VIP6, true);
    // deprecated (preferred lifetime 0): never chosen as this node's source address
    expect((await vipsOn(lab, "a", VIP6))[0]).toMatch(/deprecated/);
    await new Promise((r) => setTimeout(r, 500));
    expect(await vipsOn(lab, "b", VIP6)).toEqual([]);
    const t = Date.now();
    a.kill("SIGKILL");
    const m = await waitEvent(b, "master", t);
    expect(m.reason).toBe("master-down-timer");
    await waitVip(lab, "b", VIP6, true);
    b.kill("SIGTERM");
    await b.exited;
    expect(await vipsOn(lab, "b", VIP6)).toEqual([]);
    const file = await cap.stop();
    const verbose = await decodeVerbose(file, "vrrp");
    expect(decodeProblems(verbose)).toEqual([]);
    expect(verbose).toContain("Dst: ff02::12");
    expect(verbose).toContain("Hop Limit: 255");
    expect(verbose).toMatch(/Src: fe80::/);
    expect(verbose).toContain(`IPv6 Address: ${VIP6}`);
    const na = await decodeVerbose(file, `icmpv6.type == 136 && icmpv6.nd.na.target_address == ${VIP6}`);
    expect(decodeProblems(na)).toEqual([]);
    expect((na.match(/^Internet Control Message Protocol v6/gm) ?? []).length).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it("IPv6 unicast peers: adverts between global addresses, failover", async () => {
    const A = lab.node("a").ipv6!;
    const B = lab.node("b").ipv6!;
    const cap = await lab.capture(BRIDGE, { filter: "ip6 proto 112" });
    const base = { vrid: 62, version: 3, advertInterval: 100, virtualAddresses: [`${VIP6}/64`] };
    const a = startLbkit(lab, "a", { ...base, priority: 150, unicastPeers: [B], id: "a" });
    const b = startLbkit(lab, "b", { ...base, priority: 100, unicastPeers: [A], id: "b" });
    await waitEvent(a, "master");
    await waitEvent(b, "backup");
    await new Promise((r) => setTimeout(r, 500));
    expect(await vipsOn(lab, "b", VIP6)).toEqual([]);
    const t = Date.now();
    a.kill("SIGTERM");
    const m = await waitEvent(b, "master", t);
    expect(m.reason).toBe("peer-resigned");
    await waitVip(lab, "b", VIP6, true);
    b.kill("SIGTERM");
    await b.exited;
    const verbose = await decodeVerbose(await cap.stop(), "vrrp");
    expect(decodeProblems(verbose)).toEqual([]);
    expect(verbose).toContain(`Src: ${A}, Dst: ${B}`);
    expect(verbose).not.toContain("ff02::12");
  }, 60_000);
});
