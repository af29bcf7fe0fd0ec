// The README's main demo, run as a user runs it: the timeline must show the election, the failover on a failed
// health check, the failback, and the priority-0 handover — and leave nothing behind.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";
import { reapStaleLabs, requireRoot } from "./lab/netns.js";

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
  // the demo imports the lab as @lbkit/lab (test/lab built to dist/netns.js)
  execFileSync("pnpm", ["--filter", "@lbkit/lab", "build"], { stdio: "pipe" });
}, 120_000);

/** The demo as a child whose stdout we read, to end it at a chosen moment of its run (an event, not a delay). */
function startDemo(): { child: ChildProcess; out: () => string; seen: (p: RegExp) => Promise<void> } {
  const child = spawn(process.execPath, [DEMO], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const seen = (p: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (p.test(out)) {
          waiters.delete(check);
          resolve();
        } else if (child.exitCode !== null || child.signalCode !== null) {
          waiters.delete(check);
          reject(new Error(`demo exited before ${p}:\n${out}`));
        }
      };
      waiters.add(check);
      child.once("exit", check);
      check();
    });
  return { child, out: () => out, seen };
}
const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once("exit", (code, signal) => resolve({ code, signal }));
  });
const namespacesOf = (pid: number) =>
  execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.startsWith(`lbk-${pid}-`));

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
      [/lb2: BACKUP → MASTER .*peer-resigned/, holder("lb2"), /namespaces lbk-\d+-[0-9a-f]+-\* removed/],
    ]);
    expect(out).toMatch(/lb1: BACKUP → MASTER .*preempt/);
    expect(namespacesOf(pid)).toEqual([]);
  }, 60_000);

  // `timeout N node examples/failover/index.mjs` at any moment; Ctrl-C (SIGINT) likewise, without a stack trace
  const moments: [string, RegExp][] = [
    ["while the lab is being built", /Building the lab/],
    ["once the lab is up", /namespaces lbk-\d+-[0-9a-f]+-\{br/],
    ["while the nodes elect", /INITIALIZE → BACKUP/],
    ["in the middle of the failover", /── the master's backend fails/],
  ];
  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const) {
    for (const [when, pattern] of moments) {
      it(`${signal} ${when}: exits ${code}, no stack trace, no namespace left`, async () => {
        const demo = startDemo();
        await demo.seen(pattern);
        demo.child.kill(signal);
        const end = await exited(demo.child);
        expect(end.code, demo.out()).toBe(code);
        expect(demo.out()).not.toMatch(/^\s+at /m);
        expect(namespacesOf(demo.child.pid!)).toEqual([]);
      }, 30_000);
    }
  }

  it("stdout closed under it (`npm run demo | head`): stops, cleans up, exits 0 without EPIPE", async () => {
    const demo = startDemo();
    await demo.seen(/INITIALIZE → BACKUP/);
    demo.child.stdout!.destroy(); // like head exiting after its lines
    const end = await exited(demo.child);
    expect(end.code, demo.out()).toBe(0);
    expect(demo.out()).not.toMatch(/EPIPE|^\s+at /m);
    expect(namespacesOf(demo.child.pid!)).toEqual([]);
  }, 30_000);

  it("SIGKILLed: its namespaces are removed by the next run's reaper (their PID is dead)", async () => {
    const demo = startDemo();
    await demo.seen(/INITIALIZE → BACKUP/);
    const pid = demo.child.pid!;
    demo.child.kill("SIGKILL");
    await exited(demo.child);
    expect(namespacesOf(pid).length).toBe(4); // br, lb1, lb2, client: nothing ran to remove them
    reapStaleLabs(); // what createLab does first in every later run (the demo's included)
    expect(namespacesOf(pid)).toEqual([]);
  }, 30_000);
});
