/**
 * keepalived vrrp_script / MISC_CHECK semantics with a real hanging script that has a grandchild:
 * at the timeout the whole process group is killed and nothing is left behind (checked in /proc).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChangeEvent, execCheck, HealthChecker } from "@lbkit/healthcheck";
import { afterAll, describe, expect, it } from "vitest";

interface Proc {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
}

/** Every process in /proc, parsed from /proc/<pid>/stat (comm may contain spaces: split after the last ')'). */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.push({ pid: Number(name), state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]) });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/**
 * Nothing of the group may still run (checked right away). The killed grandchildren were the shell's
 * children, so they are reparented to init (pid 1), which reaps them: it must, within a few seconds (this
 * machine's init reaps in ~1.3 s). Our own process must have no zombie children at any point.
 */
async function expectGroupGone(pgrp: number, pids: number[]): Promise<void> {
  const ofGroup = () => processes().filter((p) => p.pgrp === pgrp || pids.includes(p.pid));
  await new Promise((r) => setTimeout(r, 50));
  expect(ofGroup().filter((p) => p.state !== "Z")).toEqual([]);
  expect(processes().filter((p) => p.ppid === process.pid && p.state === "Z")).toEqual([]);
  for (const z of ofGroup()) expect(z.ppid).toBe(1); // orphans belong to init now
  let left = ofGroup();
  for (let i = 0; i < 200 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = ofGroup();
  }
  expect(left).toEqual([]);
}

const dir = mkdtempSync(join(tmpdir(), "lbkit-hc-exec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("exec check that hangs (sh with a background grandchild)", () => {
  it("is killed at its timeout with its whole process group: nothing keeps running, no zombie of ours, orphans reaped by init", async () => {
    const pidFile = join(dir, "pids");
    // $$ = the shell (group leader, since the check spawns it detached); $! = the background sleep
    const script = `echo $$ > ${pidFile}; sleep 60 & echo $! >> ${pidFile}; sleep 60`;
    // the first check runs at a random point within one interval unless the randomness is pinned: run it now
    const hc = new HealthChecker({ random: () => 0 });
    const downs: ChangeEvent[] = [];
    hc.on("change", (e) => e.to === "down" && downs.push(e));
    hc.add({
      id: "chk_script",
      check: execCheck({ command: "sh", args: ["-c", script] }),
      // a timeout that outlasts a stalled event loop (100-300 ms on a loaded host): the group must still be
      // there when this test counts it
      inter: 5000,
      timeout: 1500,
      fall: 1,
      initState: "fully-up",
    });
    // wait for the first check to start and write its pids
    hc.start();
    let pids: number[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < 3000) {
      try {
        pids = readFileSync(pidFile, "utf8").trim().split("\n").map(Number);
        if (pids.length === 2) break;
      } catch {}
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(pids).toHaveLength(2);
    const [leader] = pids as [number, number];
    // the shell, the background sleep and the foreground sleep: three processes in their own group (the shell
    // writes the pids before it forks the foreground sleep, so wait a moment for that one)
    let group = processes().filter((p) => p.pgrp === leader);
    const t1 = performance.now();
    while (group.length < 3 && performance.now() - t1 < 1000) {
      await new Promise((r) => setTimeout(r, 5));
      group = processes().filter((p) => p.pgrp === leader);
    }
    expect(group.length).toBe(3);
    expect(leader).not.toBe(process.pid);

    const deadline = performance.now() + 4000;
    while (downs.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(downs).toHaveLength(1);
    expect(downs[0]).toMatchObject({ code: "PROCTOUT", from: "up", to: "down" });
    expect(downs[0]!.duration).toBeGreaterThanOrEqual(1495);
    expect(downs[0]!.duration).toBeLessThan(2500);
    await hc.stop();

    await expectGroupGone(leader, pids);
  });

  it("background jobs left by a script that exits are cleaned up too", async () => {
    const pidFile = join(dir, "bg");
    const check = execCheck({ command: "sh", args: ["-c", `sleep 60 & echo $! > ${pidFile}; exit 0`] });
    const r = await check({ signal: AbortSignal.timeout(2000), timeout: 2000 });
    expect(r).toMatchObject({ status: "up", code: "PROCOK" });
    const bg = Number(readFileSync(pidFile, "utf8").trim());
    const sh = processes().find((p) => p.pid === bg)?.pgrp ?? bg;
    await expectGroupGone(sh, [bg]);
  });
});
