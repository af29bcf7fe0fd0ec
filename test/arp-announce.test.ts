// @lbkit/arp on a real kernel: node "a" announces VIPs from its own namespace; neighbours "b" and "c" show what
// their kernels learned; a capture on the bridge is decoded by tshark. Nothing runs in the root namespace.
//
// Kernel rules these tests rely on (net/ipv4/arp.c arp_process, net/ipv6/ndisc.c ndisc_recv_na):
// - IPv4: a gratuitous ARP (sender IP = target IP; for a reply also target MAC = sender MAC) overrides an
//   EXISTING neighbour entry at once (is_garp bypasses locktime), unless net.ipv4.conf.*.drop_gratuitous_arp=1.
//   It CREATES an entry only with net.ipv4.conf.*.arp_accept=1 (default 0).
// - IPv6: an unsolicited NA with the Override flag replaces the link-layer address of an EXISTING entry (state
//   STALE), unless net.ipv6.conf.*.drop_unsolicited_na=1. It CREATES an entry only with
//   net.ipv6.conf.*.accept_untracked_na=1 (default 0, kernel >= 5.19) on an interface with forwarding=1. ndisc_notify is the sender-side knob
//   (the kernel announcing its own addresses) and stays 0 on "a", so every NA on the wire is ours.
// Fresh namespaces have the defaults, so "b" (pre-seeded entries) needs no sysctl; "c" gets arp_accept=1,
// accept_untracked_na=1 and IPv6 forwarding for the entry-creation case, and "b" (defaults) is the control that creates nothing.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseFrame } from "@lbkit/arp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";
import { BRIDGE, createLab, type Lab, requireRoot } from "./lab/netns.js";
import { readPcap } from "./lab/pcap.js";
import { decodeProblems, decodeVerbose, frameProtocols } from "./lab/tshark.js";

const pre = requireRoot(["ip", "tcpdump", "tshark", "ping", "setpriv"]);
const root = fileURLToPath(new URL("..", import.meta.url));
const EXAMPLE = `${root}examples/arp/announce.mjs`;
/** pcap filter: gratuitous ARP (sender IP = target IP) from `mac` */
const garpFrom = (mac: string) => `ether src ${mac} and arp and arp[14:4] = arp[24:4]`;
const FAKE_MAC_4 = "02:de:ad:be:ef:04";
const FAKE_MAC_6 = "02:de:ad:be:ef:06";

interface CliResult {
  mac: string;
  ifindex: number;
  sent?: number;
  frames: { kind: string; address: string; at: number }[];
}

describe.skipIf(pre.skip)("@lbkit/arp in network namespaces", () => {
  let lab: Lab;

  beforeAll(async () => {
    // the announcer runs in a child process, from the built dist
    ensureBuilt("arp");
    expect(existsSync(`${root}packages/arp/dist/index.js`)).toBe(true);
    lab = await createLab({ nodes: ["a", "b", "c"], ipv6: true });
    // "a" owns the VIPs; the kernel must not announce them itself (defaults, made explicit)
    await lab.exec("a", [
      "sysctl",
      "-qw",
      "net.ipv4.conf.all.arp_notify=0",
      "net.ipv6.conf.all.ndisc_notify=0",
    ]);
    await lab.exec("c", ["sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1"]);
    // accept_untracked_na only applies on an interface that forwards (ndisc_recv_na checks cnf.forwarding)
    await lab.exec("c", ["sysctl", "-qw", "net.ipv6.conf.eth0.accept_untracked_na=1"]);
    await lab.exec("c", ["sysctl", "-qw", "net.ipv6.conf.eth0.forwarding=1"]);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  const announceFrom = async (node: string, args: string[]) => {
    const { stdout } = await lab.runNode(node, EXAMPLE, args);
    return JSON.parse(stdout) as CliResult;
  };
  const neigh = async (node: string, addr: string) => {
    const { stdout } = await lab.exec(node, ["ip", "-j", "neigh", "show", addr, "dev", "eth0"]);
    return (JSON.parse(stdout) as { dst: string; lladdr?: string; state?: string[] }[])[0];
  };
  const sysctl = async (node: string, key: string) =>
    (await lab.exec(node, ["sysctl", "-n", key])).stdout.trim();

  it("replaces a neighbour's old MAC for an IPv4 VIP (gratuitous ARP) and an IPv6 VIP (unsolicited NA)", async () => {
    const a = lab.node("a");
    // the neighbour runs with the kernel defaults
    expect(await sysctl("b", "net.ipv4.conf.eth0.drop_gratuitous_arp")).toBe("0");
    expect(await sysctl("b", "net.ipv4.conf.eth0.arp_accept")).toBe("0");
    expect(await sysctl("b", "net.ipv6.conf.eth0.drop_unsolicited_na")).toBe("0");
    // "b" believes the VIPs live at another MAC (the previous master)
    await lab.exec("b", [
      "ip",
      "neigh",
      "replace",
      "198.18.0.100",
      "lladdr",
      FAKE_MAC_4,
      "dev",
      "eth0",
      "nud",
      "stale",
    ]);
    await lab.exec("b", [
      "ip",
      "-6",
      "neigh",
      "replace",
      "2001:db8::100",
      "lladdr",
      FAKE_MAC_6,
      "dev",
      "eth0",
      "nud",
      "stale",
    ]);
    expect((await neigh("b", "198.18.0.100"))?.lladdr).toBe(FAKE_MAC_4);
    expect((await neigh("b", "2001:db8::100"))?.lladdr).toBe(FAKE_MAC_6);
    // "a" takes the VIPs over
    await lab.exec("a", ["ip", "addr", "add", "198.18.0.100/24", "dev", "eth0"]);
    await lab.exec("a", ["ip", "addr", "add", "2001:db8::100/64", "dev", "eth0", "nodad"]);

    const cap = await lab.capture(BRIDGE, {
      filter: `ether src ${a.mac} and (arp or icmp6)`,
      name: "replace",
    });
    const result = await announceFrom("a", [
      "--interface",
      "eth0",
      "--address",
      "198.18.0.100",
      "--address",
      "2001:db8::100",
      "--count",
      "3",
      "--form",
      "both",
    ]);
    const file = await cap.stop();

    expect(result.mac).toBe(a.mac);
    expect(result.ifindex).toBe(a.ifindex);
    expect(result.frames.map((f) => f.kind)).toEqual(
      Array(3).fill(["arp-request", "arp-reply", "na"]).flat(),
    );

    const b4 = await neigh("b", "198.18.0.100");
    const b6 = await neigh("b", "2001:db8::100");
    expect(b4?.lladdr).toBe(a.mac);
    expect(b6?.lladdr).toBe(a.mac);
    // and the entries work: "b" reaches the VIPs on "a"
    await lab.exec("b", ["ping", "-c", "1", "-W", "2", "198.18.0.100"]);
    await lab.exec("b", ["ping", "-6", "-c", "1", "-W", "2", "2001:db8::100"]);

    // the wire carries exactly what announce() says it sent, and tshark finds nothing wrong with it
    const frames = readPcap(file).records.map((r) => parseFrame(r.data));
    expect(frames.length).toBe(9);
    expect(frames.filter((f) => f?.kind === "arp" && f.gratuitous && f.senderMac === a.mac).length).toBe(6);
    expect(
      frames.filter((f) => f?.kind === "ndp" && f.type === "na" && f.override && f.checksumValid).length,
    ).toBe(3);
    const protos = await frameProtocols(file);
    expect(protos.length).toBe(9);
    for (const p of protos) expect(["eth:ethertype:arp", "eth:ethertype:ipv6:icmpv6"]).toContain(p);
    const verbose = await decodeVerbose(file);
    expect(decodeProblems(verbose)).toEqual([]);
    expect(verbose.match(/\[Is gratuitous: True\]/g)?.length).toBe(6);
    expect(verbose.match(/Type: Neighbor Advertisement \(136\)/g)?.length).toBe(3);
    expect(verbose.match(/\[Checksum Status: Good\]/g)?.length).toBe(3);
    expect(verbose.match(/ = Override: Set/g)?.length).toBe(3);
    expect(verbose.match(/ = Solicited: Not set/g)?.length).toBe(3);
    expect(verbose.match(/Hop Limit: 255/g)?.length).toBe(3);
  });

  it("creates new entries only where arp_accept / accept_untracked_na allow it", async () => {
    const a = lab.node("a");
    await lab.exec("a", ["ip", "addr", "add", "198.18.0.101/24", "dev", "eth0"]);
    await lab.exec("a", ["ip", "addr", "add", "2001:db8::101/64", "dev", "eth0", "nodad"]);
    expect(await neigh("c", "198.18.0.101")).toBeUndefined();
    await announceFrom("a", ["-i", "eth0", "-a", "198.18.0.101", "-a", "2001:db8::101", "-c", "2"]);
    // "c" (arp_accept=1, accept_untracked_na=1) learned both
    expect((await neigh("c", "198.18.0.101"))?.lladdr).toBe(a.mac);
    expect((await neigh("c", "2001:db8::101"))?.lladdr).toBe(a.mac);
    // "b" (kernel defaults) ignores announcements for addresses it has no entry for
    expect(await neigh("b", "198.18.0.101")).toBeUndefined();
    expect(await neigh("b", "2001:db8::101")).toBeUndefined();
  });

  it("paces frames by interval and sends the second burst after delay (measured on the wire)", async () => {
    const a = lab.node("a");
    // gratuitous ARPs only (sender IP = target IP): the node's kernel may re-probe a neighbour meanwhile
    const cap = await lab.capture(BRIDGE, { filter: garpFrom(a.mac), name: "pacing" });
    const result = await announceFrom("a", [
      "-i",
      "eth0",
      "-a",
      "198.18.0.100",
      "-c",
      "3",
      "--interval",
      "100",
      "--delay",
      "500",
    ]);
    const file = await cap.stop();
    const t = readPcap(file).records.map((r) => r.timeUs / 1000);
    expect(t.length).toBe(6);
    expect(result.frames.length).toBe(6);
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    // 100, 100, 500 + 0 (the second burst starts `delay` after the first ends), 100, 100 ms. Capture timestamps
    // jitter by a few ms either way; a timer is never early but a loaded host runs it up to ~300 ms late, hence
    // the lopsided tolerance (390 ms: a 100 ms gap still cannot pass for the 500 ms delay)
    const want = [100, 100, 500, 100, 100];
    for (const [i, g] of gaps.entries()) {
      expect(g).toBeGreaterThanOrEqual(want[i]! - 5);
      expect(g).toBeLessThan(want[i]! + 390);
    }
    console.log(`arp pacing on the wire (ms): gaps ${gaps.map((g) => g.toFixed(2)).join(", ")}`);
  });

  it("refreshes periodically with an Announcer until stopped", async () => {
    const a = lab.node("a");
    // gratuitous ARPs only (sender IP = target IP): the node's kernel may re-probe a neighbour meanwhile
    const cap = await lab.capture(BRIDGE, { filter: garpFrom(a.mac), name: "refresh" });
    const out = await announceFrom("a", [
      "-i",
      "eth0",
      "-a",
      "198.18.0.100",
      "-c",
      "2",
      "--delay",
      "0",
      "--refresh",
      "500",
      "--duration",
      "1950",
    ]);
    const file = await cap.stop();
    const t = readPcap(file).records.map((r) => r.timeUs / 1000);
    // 2 at start, then 1 at 500, 1000, 1500 ms; stopped at 1950 ms, before the 2000 ms refresh (timers run in the
    // order they are due, however late). Each refresh is armed when the last one ran, so lateness adds up: up to
    // 450 ms of it in all is allowed, the margin the stop leaves the 1500 ms refresh.
    expect(out.sent).toBe(5);
    expect(t.length).toBe(5);
    const rel = t.map((x) => x - t[0]!);
    for (const [i, want] of [0, 0, 500, 1000, 1500].entries()) {
      expect(rel[i]!).toBeGreaterThanOrEqual(want - 5);
      expect(rel[i]!).toBeLessThan(want + 450);
    }
    console.log(`arp refresh on the wire (ms since first): ${rel.map((x) => x.toFixed(2)).join(", ")}`);
  });

  it("names a missing interface and a malformed address", async () => {
    await expect(lab.runNode("a", EXAMPLE, ["-i", "nope0", "-a", "198.18.0.100"])).rejects.toThrow(
      'arp: interface "nope0" not found',
    );
    await expect(lab.runNode("a", EXAMPLE, ["-i", "eth0", "-a", "1.2.3"])).rejects.toThrow(
      'arp: address "1.2.3" is not a valid IPv4 or IPv6 address',
    );
  });

  it("without CAP_NET_RAW, says which capability is missing and how to fix it", async () => {
    const a = lab.node("a");
    // still root, but with CAP_NET_RAW dropped from the bounding set (so from the new process' capabilities)
    const err = await lab
      .exec("a", [
        "setpriv",
        "--bounding-set",
        "-net_raw",
        "--inh-caps",
        "-net_raw",
        process.execPath,
        EXAMPLE,
        "-i",
        "eth0",
        "-a",
        "198.18.0.100",
      ])
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err?.message).toContain(
      `cannot open an AF_PACKET socket on interface "eth0" (index ${a.ifindex})`,
    );
    expect(err?.message).toContain("needs CAP_NET_RAW");
    expect(err?.message).toContain("setcap cap_net_raw+ep $(command -v node)");
  });

  it("on a down interface, says so and how to bring it up", async () => {
    await lab.exec("a", ["ip", "link", "set", "eth0", "down"]);
    try {
      await expect(lab.runNode("a", EXAMPLE, ["-i", "eth0", "-a", "198.18.0.100"])).rejects.toThrow(
        /arp: cannot send a frame: interface "eth0" \(index \d+\) is down; bring it up with `ip link set eth0 up`/,
      );
    } finally {
      await lab.exec("a", ["ip", "link", "set", "eth0", "up"]);
    }
  });
});
