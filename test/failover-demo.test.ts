// The README's main demo, run as a user runs it: the timeline must show the election, the failover on a failed
// health check, the failback, and the priority-0 handover — and leave nothing behind.
import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";
import { requireRoot } from "./lab/netns.js";

const DEMO = fileURLToPath(new URL("../examples/failover/index.mjs", import.meta.url));

function runDemo(args: string[]): Promise<{ out: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [DEMO, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`))
        : resolve({ out: stdout, pid: child.pid! }),
    );
  });
}

/**
 * The demo prints four phases separated by "── … ──" headers; each phase must show every pattern given for it.
 * Within a phase the order of simultaneous events (a transition and the VIP line) may vary.
 */
function phases(out: string, expected: RegExp[][]): void {
  const parts = out.split(/\n── /);
  expect(parts.length, out).toBe(expected.length);
  expected.forEach((patterns, i) => {
    for (const p of patterns) expect(parts[i], `phase ${i}: ${p} in:\n${out}`).toMatch(p);
  });
}

beforeAll(() => {
  for (const p of ["arp", "balancer", "healthcheck", "vrrp"]) ensureBuilt(p);
}, 120_000);

describe("failover demo on the UDP loopback transport (unprivileged)", () => {
  it("elects lb1, fails over to lb2 on a failed check, fails back, hands over on stop", async () => {
    const { out } = await runDemo(["--udp"]);
    phases(out, [
      [/lb1: BACKUP → MASTER/, /VIP 127\.0\.0\.200 → lb1$/m],
      [
        /lb1: health check web down/,
        /lb1: priority 150 → 90/,
        /lb2: BACKUP → MASTER/,
        /VIP 127\.0\.0\.200 → lb2$/m,
      ],
      [
        /lb1: priority 90 → 150/,
        /lb1: BACKUP → MASTER/,
        /lb2: MASTER → BACKUP/,
        /VIP 127\.0\.0\.200 → lb1$/m,
      ],
      [/lb2: BACKUP → MASTER .*peer-resigned/, /VIP 127\.0\.0\.200 → lb2$/m],
    ]);
  }, 60_000);
});

const pre = requireRoot(["ip", "ping"]);
describe.skipIf(pre.skip)("failover demo in network namespaces (root)", () => {
  it("moves the real VIP and the client's ARP entry, then removes its namespaces", async () => {
    const { out, pid } = await runDemo([]);
    const holder = (n: string) =>
      new RegExp(`VIP 198\\.18\\.0\\.200 → ${n} \\(kernel address\\) · client's ARP says ${n}$`, "m");
    phases(out, [
      [/lb1: BACKUP → MASTER/, holder("lb1")],
      [/lb1: priority 150 → 90/, /lb2: BACKUP → MASTER/, holder("lb2")],
      [/lb1: priority 90 → 150/, /lb1: BACKUP → MASTER/, holder("lb1")],
      [/lb2: BACKUP → MASTER .*peer-resigned/, holder("lb2"), /namespaces lbkd-\d+-\* removed/],
    ]);
    expect(execFileSync("ip", ["netns", "list"], { encoding: "utf8" })).not.toContain(`lbkd-${pid}-`);
  }, 60_000);
});
