// An IPv6 VIP (/128) over the IPv4 BGP session (MP-BGP, MP_REACH_NLRI with an IPv6 next hop): a router namespace
// running FRR and one balancer with gobgpd driven by an lbkit BgpSpeaker; the router's kernel gets the /128 via
// the balancer's IPv6 address, and loses it when the speaker withdraws it.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BALANCER_AS, ROUTER_AS, type Router, startGobgpd, startRouter, waitFor } from "./bgp/lab.js";
import { ensureBuilt } from "./lab/build.js";
import { createLab, type Lab, requireRoot } from "./lab/netns.js";

const pre = requireRoot(["ip", "gobgpd", "gobgp", "vtysh"]);
const VIP6 = "2001:db8:1::1";

describe.skipIf(pre.skip)("bgp: an IPv6 VIP over MP-BGP to FRR", () => {
  let lab: Lab;
  let router: Router;
  const route6 = async () => (await lab.exec("router", ["ip", "-6", "route", "show", `${VIP6}/128`])).stdout;

  beforeAll(async () => {
    for (const p of ["core", "arp", "bgp"]) ensureBuilt(p);
    lab = await createLab({ nodes: ["router", "lb1"], ipv6: true });
    await lab.exec("router", ["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
    router = await startRouter(lab, "router", { neighbors: [lab.node("lb1").ipv4], ipv6: true });
    await startGobgpd(lab, "lb1");
  }, 120_000);

  afterAll(async () => {
    await router?.stop();
    await lab?.destroy();
  });

  it("the router installs the /128 via the balancer's IPv6 address, and removes it on withdraw", async () => {
    const lb = lab.node("lb1");
    const script = `
      import { BgpSpeaker } from ${JSON.stringify(fileURLToPath(new URL("../packages/bgp/dist/index.js", import.meta.url)))};
      const s = new BgpSpeaker({
        gobgp: { address: "127.0.0.1:50051" }, localAs: ${BALANCER_AS}, routerId: "${lb.ipv4}", nextHop6: "${lb.ipv6}",
        neighbors: [{ address: "${lab.node("router").ipv4}", peerAs: ${ROUTER_AS} }],
        routes: [{ prefix: "${VIP6}/128", med: 5 }],
      });
      await s.start();
      console.log("started");
      process.stdin.on("data", async () => { await s.withdraw("${VIP6}/128"); console.log("withdrawn"); });
    `;
    const p = lab.spawn("lb1", [process.execPath, "--input-type=module", "-e", script], { stdin: true });
    await p.waitFor(/started/, 20_000);
    await waitFor(
      async () => (await route6()).includes(`via ${lb.ipv6}`),
      30_000,
      `${VIP6}/128 via lb1`,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await router.vtysh("show bgp ipv6 unicast")}\n${p.output()}`);
    });
    expect(await router.vtysh(`show bgp ipv6 unicast ${VIP6}/128`)).toMatch(/metric 5/);
    p.write("withdraw\n");
    await p.waitFor(/withdrawn/, 10_000);
    await waitFor(async () => (await route6()).trim() === "", 10_000, `${VIP6}/128 gone`);
  }, 90_000);
});
