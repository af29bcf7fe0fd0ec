// The README's main demo (examples/ha-pair), run as a user runs it: the timeline shows the election, the crash,
// the failback and the planned handover, with no request lost in the last two, and nothing is left behind —
// whether it ends normally, by Ctrl-C, or because its reader went away (EPIPE).
import { execFile, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";
import { requireRoot } from "./lab/netns.js";

const DEMO = fileURLToPath(new URL("../examples/ha-pair/index.mjs", import.meta.url));
const leftovers = (pid: number) =>
  execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.startsWith(`lbk-${pid}-`)); // @lbkit/lab: lbk-<pid>-<hex>-<host>

beforeAll(() => {
  for (const p of ["core", "arp", "balancer", "healthcheck", "vrrp", "proxy"]) ensureBuilt(p);
}, 180_000);

function parse(out: string) {
  const parts = out.split(/\n── /);
  const table = Object.fromEntries(
    [...out.matchAll(/^(start|lb1 crashes|lb1 comes back|planned maintenance)\S*.*?\s+(\d+)\s+(\d+)$/gm)].map(
      (m) => [m[1], { ok: Number(m[2]), failed: Number(m[3]) }],
    ),
  );
  return { parts, table };
}

describe("ha-pair demo on the UDP loopback transport (unprivileged)", () => {
  it("tells the same story: crash, failback and handover, nothing lost in the last two", async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [DEMO, "--udp"], { timeout: 90_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const { parts, table } = parse(out);
    expect(parts.length, out).toBe(4);
    expect(parts[0]).toMatch(/VIP lb1 .*web1 UP {2}web2 UP {2}web3 UP \| served by lb1/);
    expect(parts[1]).toMatch(/lb2: VRRP BACKUP → MASTER .*master-down-timer/);
    expect(parts[2]).toMatch(/lb1: VRRP BACKUP → MASTER .*master-down-timer/);
    expect(parts[3]).toMatch(/lb2: VRRP BACKUP → MASTER .*peer-resigned/);
    expect(table["lb1 comes back"], out).toMatchObject({ failed: 0 });
    expect(table["planned maintenance"], out).toMatchObject({ failed: 0 });
    expect(out).toMatch(/all processes stopped\.$/m);
  }, 120_000);
});

const pre = requireRoot(["ip"]);
describe.skipIf(pre.skip)("ha-pair demo in network namespaces (root)", () => {
  it("fails over on a crash within Master_Down_Interval + 1 s, loses nothing on failback and handover", async () => {
    const { out, pid } = await new Promise<{ out: string; pid: number }>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [DEMO, "--rate", "50"],
        { timeout: 90_000 },
        (err, stdout, stderr) =>
          err
            ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`))
            : resolve({ out: stdout, pid: child.pid! }),
      );
    });
    const parts = out.split(/\n── /);
    expect(parts.length, out).toBe(4);
    expect(parts[0]).toMatch(/lb1: VRRP BACKUP → MASTER/);
    expect(parts[0]).toMatch(/stats page http:\/\/198\.18\.0\.11:8404\/web-status/);
    expect(parts[0]).toMatch(/VIP lb1 .*web1 UP {2}web2 UP {2}web3 UP \| served by lb1/);
    expect(parts[1]).toMatch(/lb2: VRRP BACKUP → MASTER .*master-down-timer/);
    expect(parts[1]).toMatch(/VIP lb2 .*served by lb2/);
    expect(parts[2]).toMatch(/lb1: VRRP BACKUP → MASTER .*master-down-timer/);
    expect(parts[3]).toMatch(/lb2: VRRP BACKUP → MASTER .*peer-resigned/);
    expect(parts[3]).toMatch(/VIP lb2 .*served by lb2 \d+\n/);
    const table = Object.fromEntries(
      [
        ...out.matchAll(/^(start|lb1 crashes|lb1 comes back|planned maintenance)\S*.*?\s+(\d+)\s+(\d+)$/gm),
      ].map((m) => [m[1], { ok: Number(m[2]), failed: Number(m[3]) }]),
    );
    expect(Object.keys(table), out).toHaveLength(4);
    expect(table.start.failed).toBe(0);
    // Master_Down_Interval = 3 × 1 s + (256 − 102) / 256 s ≈ 3.6 s; + 1 s at 50 requests/s
    expect(table["lb1 crashes"].failed).toBeLessThanOrEqual(Math.ceil(4.6 * 50));
    expect(table["lb1 comes back"]).toMatchObject({ failed: 0 });
    expect(table["planned maintenance"]).toMatchObject({ failed: 0 });
    expect(table["planned maintenance"].ok).toBeGreaterThan(100);
    expect(out).toMatch(new RegExp(`namespaces lbk-${pid}-[0-9a-f]+-\\* removed`));
    expect(leftovers(pid)).toEqual([]);
  }, 120_000);

  it("removes everything when interrupted (SIGINT) or when its reader goes away (EPIPE)", async () => {
    for (const how of ["SIGINT", "EPIPE"] as const) {
      const child = spawn(process.execPath, [DEMO], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no master within 30 s:\n${out}`)), 30_000);
        child.stdout.on("data", (d) => {
          out += d;
          if (/VIP lb1 /.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const namespaces = leftovers(child.pid!);
      expect(namespaces.length).toBeGreaterThan(0);
      const pids = namespaces.flatMap((ns) =>
        execFileSync("ip", ["netns", "pids", ns.split(" ")[0]!], { encoding: "utf8" })
          .split("\n")
          .filter(Boolean),
      );
      expect(pids.length).toBeGreaterThanOrEqual(6); // two nodes, three web servers, the client
      if (how === "SIGINT") {
        // the stats page it prints is the proxy's own (HAProxy's stats uri): its CSV lists the three servers
        const lb1 = namespaces.map((l) => l.split(" ")[0]!).find((ns) => ns.endsWith("-lb1"))!;
        const get = `fetch(process.argv[1]).then(async (r) => { if (!r.ok) process.exit(1); process.stdout.write(await r.text()); })`;
        const csv = execFileSync(
          "ip",
          ["netns", "exec", lb1, process.execPath, "-e", get, "http://198.18.0.11:8404/web-status;csv"],
          { encoding: "utf8", timeout: 10_000 },
        );
        expect(csv).toMatch(/^# pxname,svname,/);
        for (const w of ["web1", "web2", "web3"]) expect(csv).toMatch(new RegExp(`^web,${w},.*,UP,`, "m"));
      }
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      if (how === "SIGINT") child.kill("SIGINT");
      else child.stdout.destroy(); // the next write gets EPIPE
      const code = await exited;
      expect(code, how).toBe(how === "SIGINT" ? 130 : 141);
      expect(leftovers(child.pid!), how).toEqual([]);
      // no process of the demo is left either (SIGKILLed children are reaped by init once the demo has exited)
      const isAlive = (p: string) => {
        try {
          process.kill(Number(p), 0);
          return !/^\S+ \S+ Z/.test(readFileSync(`/proc/${p}/stat`, "utf8").replace(/\(.*\)/, "x")); // zombie: dead
        } catch {
          return false;
        }
      };
      const alive = pids.filter(isAlive);
      expect(alive, how).toEqual([]);
    }
  }, 90_000);
});
