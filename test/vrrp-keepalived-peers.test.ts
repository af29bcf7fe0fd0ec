// lbkit against keepalived 2.2 peers that disagree with it: a peer configured with other virtual addresses
// (issue 10: dropped where keepalived drops, reported as a discard), and a split brain healing (issue 9: on
// stepping down to a higher priority lbkit first sends one advert of its own — keepalived's
// higher_prio_send_advert — so the keepalived master re-announces and clients follow it, whichever advert
// crosses first).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BRIDGE, createLab, type Lab, type LabProcess, requireRoot } from "./lab/netns.js";
import {
  buildVrrp,
  cutVrrp,
  events,
  killAll,
  runKeepalived,
  started,
  startLbkit,
  waitEvent,
  waitVip,
} from "./vrrp/helpers.js";

const pre = requireRoot(["ip", "tcpdump", "keepalived", "nft"]);
const VIP = "198.18.0.200";
const VIP2 = "198.18.0.201";

async function waitLog(p: LabProcess, re: RegExp, from = 0, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!re.test(p.output().slice(from))) {
    if (Date.now() > end)
      throw new Error(`keepalived: no ${re} within ${timeoutMs} ms; output:\n${p.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** keepalived.conf for one instance with the given VIPs (v2, 1 s adverts unless told). */
function keepalivedConf(o: {
  name: string;
  vrid: number;
  priority: number;
  vips: string[];
  version?: 2 | 3;
}) {
  return [
    "global_defs {",
    `  router_id ${o.name}`,
    `  vrrp_version ${o.version ?? 2}`,
    "  vrrp_garp_master_delay 5",
    "}",
    `vrrp_instance VI_${o.vrid} {`,
    "  state BACKUP",
    "  interface eth0",
    `  virtual_router_id ${o.vrid}`,
    `  priority ${o.priority}`,
    "  advert_int 1",
    "  virtual_ipaddress {",
    ...o.vips.map((v) => `    ${v}/24 dev eth0`),
    "  }",
    "}",
  ];
}

describe.skipIf(pre.skip)("vrrp: keepalived 2.2 peers that disagree", () => {
  let lab: Lab;
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["k", "l", "c"] });
  }, 120_000);
  afterAll(() => lab?.destroy());
  afterEach(async () => {
    await killAll();
    for (const n of ["k", "l"]) {
      for (const v of [VIP, VIP2])
        await lab.exec(n, ["ip", "addr", "del", `${v}/24`, "dev", "eth0"]).catch(() => undefined);
      await cutVrrp(lab, n, false).catch(() => undefined);
    }
  });

  for (const [what, kaVips, count] of [
    ["an extra address (count 2, ours 1)", [VIP, VIP2], /unexpected ip number count 1, expected 2/],
    [
      "another address (same count)",
      [VIP2],
      /ip address associated with VRID \d+ not present in MASTER advert/,
    ],
  ] as const)
    it(`a keepalived peer configured with ${what}: its adverts are dropped with reason "addresses", as keepalived drops ours`, async () => {
      const vrid = kaVips.length === 2 ? 101 : 102;
      const k = runKeepalived(
        lab,
        "k",
        `mis${vrid}`,
        keepalivedConf({ name: `mis${vrid}`, vrid, priority: 150, vips: [...kaVips] }),
      );
      await waitLog(k, /Entering MASTER STATE/);
      const l = startLbkit(lab, "l", {
        id: "l",
        vrid,
        version: 2,
        advertInterval: 1000,
        priority: 100,
        virtualAddresses: [`${VIP}/24`],
      });
      await waitEvent(l, "backup");
      // a correct peer at 150 would keep lbkit backup; a dropped one lets it take over (keepalived 2.2 does too)
      const m = await waitEvent(l, "master", 0, 10_000);
      expect(m.reason).toBe("master-down-timer");
      const discards = events(l).filter((e) => e.event === "discard");
      expect(discards.length).toBeGreaterThanOrEqual(2);
      expect(discards.every((e) => e.reason === "addresses" && e.src === lab.node("k").ipv4)).toBe(true);
      // and keepalived logs the mismatch of ours
      await waitLog(k, count, 0, 5000);
    }, 60_000);

  for (const first of ["keepalived", "lbkit"] as const)
    it(`split brain heals onto the keepalived master (150) when ${first}'s advert crosses first: the client's ARP entry follows within 3 intervals`, async () => {
      const K = lab.node("k");
      const L = lab.node("l");
      const vrid = first === "keepalived" ? 103 : 104;
      // partition on the side whose adverts must cross first after the heal; the other side's adverts stay on
      // the wire, so the heal can follow one of them and leave a whole interval before its next
      const cutSide = first === "keepalived" ? "k" : "l";
      const watched = first === "keepalived" ? L.ipv4 : K.ipv4;
      await cutVrrp(lab, cutSide, true);
      const k = runKeepalived(
        lab,
        "k",
        `sb${vrid}`,
        keepalivedConf({ name: `sb${vrid}`, vrid, priority: 150, vips: [VIP] }),
      );
      await waitLog(k, /Entering MASTER STATE/);
      const l = startLbkit(lab, "l", {
        id: "l",
        vrid,
        version: 2,
        advertInterval: 1000,
        priority: 100,
        virtualAddresses: [`${VIP}/24`],
      });
      await waitEvent(l, "master", 0, 10_000);
      await waitVip(lab, "k", VIP, true);
      await waitVip(lab, "l", VIP, true);
      // both masters' delayed GARP bursts (5 s) are over; the client followed lbkit, the last to take over
      await new Promise((r) => setTimeout(r, 6000));
      await lab.exec("c", ["ip", "neigh", "replace", VIP, "lladdr", L.mac, "dev", "eth0", "nud", "stale"]);
      await new Promise((r) => setTimeout(r, 1100)); // past the neighbour entry's locktime

      const tap = lab.spawn(BRIDGE, ["tcpdump", "-l", "-n", "-i", "br0", `vrrp and src host ${watched}`]);
      started.push(tap);
      await tap.waitFor(/listening on/, 10_000);
      const seen = tap.output().length;
      await tap.waitFor(new RegExp(`${watched.replaceAll(".", "\\.")} > 224\\.0\\.0\\.18`), 5000);
      // events are awaited from before the heal (keepalived's advert may cross, and lbkit step down, before the
      // nft child's exit reaches this process); durations are measured from when the heal is done
      const healing = Date.now();
      await cutVrrp(lab, cutSide, false);
      const healed = Date.now();
      expect(tap.output().length).toBeGreaterThan(seen);

      let movedAt: number | undefined;
      while (Date.now() - healed < 3000 + 500) {
        const { stdout } = await lab.exec("c", ["ip", "neigh", "show", VIP, "dev", "eth0"]);
        if (stdout.includes(K.mac)) {
          movedAt = Date.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const b = await waitEvent(l, "backup", healing, 3000);
      expect(b.reason).toBe("higher-priority");
      await waitVip(lab, "l", VIP, false);
      expect(movedAt, `the client's entry for ${VIP} never moved to keepalived's MAC ${K.mac}`).toBeDefined();
      expect(movedAt! - healed).toBeLessThan(3000);
      console.log(
        `split brain (${first} first): client on the winner ${movedAt! - healed} ms after the heal`,
      );
    }, 60_000);
});
