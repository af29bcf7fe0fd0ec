// @lbkit/kernel-lb LVS-DR (direct return) on a real kernel: a client, a director and three real servers on one
// bridge. The director holds the VIP on eth0 and forwards each packet of a VIP flow unchanged to a real server's
// MAC (nftables netdev ingress, `fwd ip to … device eth0`); the real servers hold the VIP on lo (arp_ignore=1,
// arp_announce=2) and answer the client straight, so no reply passes the director.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClientResult, kernelLbScript as script, spawnDirector } from "./kernel-lb/harness.js";
import { ensureBuilt } from "./lab/build.js";
import { createLab, type Lab, requireRoot } from "./lab/netns.js";
import { readPcap } from "./lab/pcap.js";

const pre = requireRoot(["ip", "nft", "tcpdump"]);
const VIP = "198.18.0.100";
const SERVERS = ["r1", "r2", "r3"];

describe.skipIf(pre.skip)("kernel-lb LVS-DR in network namespaces", () => {
  let lab: Lab;

  async function client(args: string[]): Promise<ClientResult> {
    const { stdout } = await lab.runNode("client", script("client.mjs"), ["--host", VIP, ...args], {
      timeoutMs: 60_000,
    });
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as ClientResult;
  }

  const director = (table: string, services: object[]) =>
    spawnDirector(lab, "director", ["--table", table, "--services", JSON.stringify(services)]);

  const dr = (weights = [1, 1, 1]) => ({
    id: "web",
    vip: VIP,
    port: 80,
    lbKind: "dr",
    device: "eth0",
    servers: SERVERS.map((id, i) => ({ id, address: lab.node(id).ipv4, weight: weights[i] })),
  });

  const macOf = (bytes: Uint8Array, at: number) =>
    [...bytes.subarray(at, at + 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");

  beforeAll(async () => {
    for (const p of ["core", "balancer", "healthcheck", "kernel-lb"]) ensureBuilt(p);
    lab = await createLab({ nodes: ["client", "director", ...SERVERS] });
    await lab.exec("director", ["ip", "addr", "add", `${VIP}/24`, "dev", "eth0"]);
    for (const s of SERVERS) {
      // the LVS-DR real server recipe: the VIP on lo, never answered for nor announced on eth0
      await lab.exec(s, [
        "sysctl",
        "-qw",
        "net.ipv4.conf.all.arp_ignore=1",
        "net.ipv4.conf.all.arp_announce=2",
        "net.ipv4.conf.eth0.arp_ignore=1",
        "net.ipv4.conf.eth0.arp_announce=2",
      ]);
      await lab.exec(s, ["ip", "addr", "add", `${VIP}/32`, "dev", "lo"]);
      const p = lab.spawnNode(s, script("real-server.mjs"), ["--name", s, "--port", "80"]);
      await p.waitFor(`listening ${s}`, 10_000);
    }
  }, 120_000);
  afterAll(() => lab?.destroy());

  it("real servers answer the client directly: no reply passes the director", async () => {
    const d = director("lbk_dr", [dr()]);
    await d.next("ready");
    const inbound = await lab.capture("director", {
      filter: `tcp and dst host ${VIP} and dst port 80`,
      name: "in",
    });
    const replies = await lab.capture("director", {
      filter: `tcp and src host ${VIP} and src port 80`,
      name: "out",
    });
    const atClient = await lab.capture("client", {
      filter: `tcp and src host ${VIP} and src port 80`,
      name: "cl",
    });
    const r = await client(["--count", "300", "--concurrency", "6"]);
    expect(r.failures).toBe(0);
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.counts).sort()).toEqual(SERVERS);
    expect(Object.values(r.counts).reduce((a, b) => a + b, 0)).toBe(300);
    // flows are hashed into consistent buckets: each of three equal servers gets a fair share, not an exact third
    for (const n of Object.values(r.counts)) expect(n).toBeGreaterThan(40);
    const seenIn = readPcap(await inbound.stop()).records.length;
    const seenOut = readPcap(await replies.stop()).records.length;
    const clientSaw = readPcap(await atClient.stop()).records;
    expect(seenIn).toBeGreaterThan(300 * 3); // the director saw (and forwarded) every request packet…
    expect(seenOut).toBe(0); // …and not one reply
    // the replies the client got came from the real servers' MACs, with the VIP as source address
    const realMacs = new Set(SERVERS.map((s) => lab.node(s).mac));
    const sources = new Set(clientSaw.map((rec) => macOf(rec.data, 6)));
    expect(clientSaw.length).toBeGreaterThan(300 * 2);
    expect([...sources].sort()).toEqual([...realMacs].sort());
    d.send({ op: "stop" });
    await d.next("stopped");
    expect((await lab.exec("director", ["nft", "list", "tables"])).stdout).not.toContain("lbk_dr");
  });

  it("every packet of a flow reaches the same real server; weight 0 takes a server out of new flows", async () => {
    const d = director("lbk_dr2", [dr()]);
    await d.next("ready");
    const hold = lab.spawnNode("client", script("client.mjs"), ["--host", VIP, "--hold", "3000"]);
    await hold.exited;
    const h = JSON.parse(hold.output().trim().split("\n").at(-1)!) as {
      name: string;
      sent: number;
      echoed: number;
      bad: string[];
    };
    expect(h.sent).toBeGreaterThan(20);
    expect(h.echoed).toBe(h.sent); // each line came back from the server that greeted the flow
    expect(h.bad).toEqual([]);
    d.send({ op: "weight", service: "web", id: "r2", weight: 0 });
    await d.next("done");
    const r = await client(["--count", "90"]);
    expect(r.failures).toBe(0);
    expect(r.counts.r2).toBeUndefined();
    expect(Object.keys(r.counts).sort()).toEqual(["r1", "r3"]);
    d.send({ op: "stop" });
    await d.next("stopped");
  });
});
