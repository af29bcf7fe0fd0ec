// Self-test of the network lab: namespaces, bridge, addresses, processes, capture, and teardown.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BRIDGE, createLab, type Lab, requireRoot } from "./lab/netns.js";
import { readPcap } from "./lab/pcap.js";

const pre = requireRoot(["ip", "tcpdump", "ping"]);

describe.skipIf(pre.skip)("test/lab network namespaces", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ nodes: ["a", "b"], ipv6: true });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("names namespaces uniquely per run and keeps the bridge out of the root namespace", async () => {
    expect(lab.id).toMatch(new RegExp(`^lbk-${process.pid}-[0-9a-f]{6}$`));
    expect(lab.node("a").ns).toBe(`${lab.id}-a`);
    const { stdout } = await lab.exec(BRIDGE, ["ip", "-j", "link", "show", "master", "br0"]);
    expect((JSON.parse(stdout) as unknown[]).length).toBe(2);
  });

  it("joins the nodes over IPv4 and IPv6", async () => {
    const a = lab.node("a");
    const b = lab.node("b");
    expect(a.ipv4).toBe("198.18.0.10");
    expect(b.ipv6).toBe("2001:db8::11");
    await lab.exec("a", ["ping", "-c", "1", "-W", "2", b.ipv4]);
    await lab.exec("a", ["ping", "-6", "-c", "1", "-W", "2", b.ipv6!]);
    const neigh = (await lab.exec("a", ["ip", "neigh", "show", b.ipv4])).stdout;
    expect(neigh).toContain(b.mac);
  });

  it("captures inside a namespace", async () => {
    const cap = await lab.capture("b", { filter: "icmp" });
    await lab.exec("a", ["ping", "-c", "2", "-i", "0.2", "-W", "2", lab.node("b").ipv4]);
    const file = await cap.stop();
    // 2 echo requests + 2 replies
    expect(readPcap(file).records.length).toBe(4);
  });

  it("kills its processes and deletes every namespace on destroy", async () => {
    const extra = await createLab({ nodes: ["x"] });
    const proc = extra.spawn("x", ["sleep", "60"]);
    const names = [extra.bridgeNs, extra.node("x").ns];
    for (const n of names) expect(existsSync(`/run/netns/${n}`)).toBe(true);
    await extra.destroy();
    const { signal } = await proc.exited;
    expect(signal).toBe("SIGKILL");
    for (const n of names) expect(existsSync(`/run/netns/${n}`)).toBe(false);
  });

  it("rejects addresses outside the lab ranges", async () => {
    await expect(createLab({ nodes: [{ name: "z", ipv4: "10.0.0.1/24" }] })).rejects.toThrow(
      /198\.18\.0\.0\/15/,
    );
  });
});
