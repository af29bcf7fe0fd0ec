// Interop: keepalived 2.2 (Debian) as the reference sender. keepalived becomes MASTER in lab node "a" for an IPv4
// VIP and an IPv6 (excluded) VIP; every GARP and NA it puts on the wire must equal, byte for byte, what
// @lbkit/arp builds for the same MAC and address — and what announce() sends from the same node, in the same
// order (one frame per VIP per round).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildGratuitousArp, buildUnsolicitedNa, parseAddress, planBurst } from "@lbkit/arp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";
import { BRIDGE, createLab, type Lab, requireRoot } from "./lab/netns.js";
import { readPcap } from "./lab/pcap.js";
import { decodeProblems, decodeVerbose } from "./lab/tshark.js";

const pre = requireRoot(["ip", "tcpdump", "tshark", "keepalived"]);
const root = fileURLToPath(new URL("..", import.meta.url));
const VIP4 = "198.18.0.200";
const VIP6 = "2001:db8::200";
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const FILTER = (mac: string) => `ether src ${mac} and (arp or (icmp6 and ip6[40] == 136))`;

describe.skipIf(pre.skip)("@lbkit/arp against keepalived 2.2", () => {
  let lab: Lab;
  beforeAll(async () => {
    ensureBuilt("arp");
    lab = await createLab({ nodes: ["a", "b"], ipv6: true });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("sends the same GARP and NA bytes, in the same order, as keepalived on becoming MASTER", async () => {
    const a = lab.node("a");
    const conf = join(lab.dir, "keepalived.conf");
    writeFileSync(
      conf,
      `global_defs {
  router_id lbk_arp_interop
}
vrrp_instance VI_ARP {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 255
  advert_int 1
  garp_master_repeat 2
  garp_master_delay 1
  virtual_ipaddress {
    ${VIP4}/24
  }
  virtual_ipaddress_excluded {
    ${VIP6}/64
  }
}
`,
    );
    const cap = await lab.capture(BRIDGE, { filter: FILTER(a.mac), name: "keepalived" });
    const ka = lab.spawn("a", [
      "keepalived",
      "-n",
      "-l",
      "-D",
      "-f",
      conf,
      "-p",
      join(lab.dir, "keepalived.pid"),
      "-r",
      join(lab.dir, "vrrp.pid"),
      "--vrrp",
    ]);
    await ka.waitFor("Entering MASTER STATE", 15_000);
    // the second burst comes garp_master_delay (1 s) later
    await new Promise((r) => setTimeout(r, 1800));
    ka.kill("SIGTERM");
    await ka.exited;
    const kaFile = await cap.stop();
    const kaFrames = readPcap(kaFile).records;

    // 2 rounds now + 2 rounds after 1 s, each round: GARP for the IPv4 VIP, NA for the IPv6 VIP
    expect(kaFrames.length).toBe(8);
    const garp = hex(buildGratuitousArp({ mac: a.mac, address: VIP4, form: "request" }));
    const na = hex(buildUnsolicitedNa({ mac: a.mac, address: VIP6 }));
    expect(kaFrames.map((r) => hex(r.data))).toEqual([garp, na, garp, na, garp, na, garp, na]);
    const gap = (kaFrames[4]!.timeUs - kaFrames[3]!.timeUs) / 1000;
    expect(gap).toBeGreaterThan(900);
    console.log(`keepalived second burst after ${gap.toFixed(1)} ms (garp_master_delay 1 s)`);

    // our burst for the same VIPs from the same node: identical bytes, identical order
    const plan = planBurst([parseAddress(VIP4), parseAddress(VIP6)], {
      count: 2,
      form: "request",
      mac: a.mac,
    });
    expect(plan.map((f) => hex(f.bytes))).toEqual(kaFrames.slice(0, 4).map((r) => hex(r.data)));
    const cap2 = await lab.capture(BRIDGE, { filter: FILTER(a.mac), name: "lbkit" });
    await lab.runNode("a", `${root}examples/arp/announce.mjs`, [
      "-i",
      "eth0",
      "-a",
      VIP4,
      "-a",
      VIP6,
      "-c",
      "2",
    ]);
    const ours = readPcap(await cap2.stop()).records;
    expect(ours.map((r) => hex(r.data))).toEqual(kaFrames.slice(0, 4).map((r) => hex(r.data)));
    expect(decodeProblems(await decodeVerbose(kaFile))).toEqual([]);
  });
});
