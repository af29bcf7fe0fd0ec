// @lbkit/kernel-lb's IPVS backend on the real kernel.
//
// Exception to "no skip hiding missing work", stated by issue #14 itself ("tested only where the kernel has IPVS"):
// the suite that programs a real IPVS service runs only where /proc/net/ip_vs exists. The kernel lbkit is developed
// on has no IPVS, so there it is skipped and the first test checks what such a kernel must get instead: start()
// rejects with ERR_IPVS_MISSING naming `modprobe ip_vs`, and the director stays never started. That test opens a
// NETLINK_GENERIC socket and asks the controller for the "IPVS" family — no packet leaves the machine.
import { existsSync } from "node:fs";
import { IpvsDirector } from "@lbkit/kernel-lb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kernelLbScript as script } from "./kernel-lb/harness.js";
import { ensureBuilt } from "./lab/build.js";
import { createLab, type Lab, requireRoot } from "./lab/netns.js";

const VIP = "198.18.0.100";
const hex = (ip: string) =>
  ip
    .split(".")
    .map((b) => Number(b).toString(16).padStart(2, "0").toUpperCase())
    .join("");

describe("IpvsDirector's family lookup", () => {
  it("rejects start() with ERR_IPVS_MISSING on a kernel without IPVS, and stays never started", async () => {
    const d = new IpvsDirector({ services: [] });
    const outcome = await d.start().then(
      () => "started",
      (e: unknown) => e,
    );
    // Where ip_vs is a loadable module and we are root, the kernel autoloads it on this very lookup (its genl
    // family alias): then /proc/net/ip_vs exists now and start() must have succeeded.
    if (existsSync("/proc/net/ip_vs")) {
      expect(outcome).toBe("started");
      await d.stop();
      return;
    }
    expect(outcome).toMatchObject({
      name: "KernelLbError",
      code: "ERR_IPVS_MISSING",
      message: expect.stringContaining("modprobe ip_vs"),
    });
    expect((outcome as Error).message).toContain('family "IPVS" is unknown');
    expect(d.isRunning).toBe(false);
    await expect(d.sync()).rejects.toMatchObject({ code: "ERR_NOT_RUNNING" });
    await d.stop(); // a never-started director has nothing to undo
  });
});

const pre = requireRoot(["ip"]);
describe.skipIf(pre.skip || !existsSync("/proc/net/ip_vs"))("IpvsDirector on a kernel with IPVS", () => {
  let lab: Lab;
  beforeAll(async () => {
    for (const p of ["core", "balancer", "kernel-lb"]) ensureBuilt(p);
    lab = await createLab({ nodes: ["director", "r1", "r2"] });
  }, 120_000);
  afterAll(() => lab?.destroy());

  it("programs a NAT service into the namespace's IPVS, follows weight and state changes, removes it on stop", async () => {
    const r1 = lab.node("r1").ipv4;
    const r2 = lab.node("r2").ipv4;
    const { stdout } = await lab.runNode("director", script("ipvs-director.mjs"), [VIP, r1, r2], {
      timeoutMs: 30_000,
    });
    const steps = Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { step: string; ipvs?: string; message?: string })
        .map((s) => [s.step, s.ipvs ?? s.message ?? ""]),
    );
    expect(steps.error).toBeUndefined();
    const service = `TCP  ${hex(VIP)}:0050 wrr`;
    const dest = (ip: string, weight: number) => new RegExp(`-> ${hex(ip)}:0050\\s+Masq\\s+${weight}\\s`);
    expect(steps.started).toContain(service);
    expect(steps.started).toMatch(dest(r1, 1));
    expect(steps.started).toMatch(dest(r2, 2));
    expect(steps.weight).toMatch(dest(r2, 5));
    expect(steps.down).not.toContain(hex(r1));
    expect(steps.down).toMatch(dest(r2, 5));
    expect(steps.stopped).not.toContain(hex(VIP));
  });
});
