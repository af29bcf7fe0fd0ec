// Start/stop cycles of an instance with its default raw transport, netlink VIP mover and AF_PACKET announcer in a
// network namespace (issue 10): each cycle takes over (VIP added, GARP burst) and stops; no descriptor and no
// timer may be left behind.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLab, type Lab, requireRoot } from "./lab/netns.js";
import { buildVrrp, vipsOn } from "./vrrp/helpers.js";

const pre = requireRoot(["ip"]);
const CYCLES = new URL("./vrrp/cycles.mjs", import.meta.url).pathname;
const VIP = "198.18.0.200";

describe.skipIf(pre.skip)("vrrp: start/stop cycles leak nothing", () => {
  let lab: Lab;
  beforeAll(async () => {
    buildVrrp();
    lab = await createLab({ nodes: ["a"], ipv6: true });
  }, 120_000);
  afterAll(() => lab?.destroy());

  for (const [family, vip] of [
    [4, `${VIP}/24`],
    [6, "2001:db8::200/64"],
  ] as const)
    it(`IPv${family}: 30 cycles of start → master → stop keep descriptors and timers flat`, async () => {
      const opts = {
        cycles: 30,
        vrid: 40 + family,
        version: 3,
        advertInterval: 20,
        priority: 100,
        virtualAddresses: [vip],
      };
      const { stdout } = await lab.runNode("a", CYCLES, [JSON.stringify(opts)], { timeoutMs: 60_000 });
      const r = JSON.parse(stdout.trim().split("\n").at(-1)!);
      expect(r.masters).toBe(30);
      expect(r.after.fds).toBe(r.before.fds);
      expect(r.after.timers).toBe(r.before.timers);
      expect(await vipsOn(lab, "a", vip.split("/")[0]!)).toEqual([]);
    }, 90_000);
});
