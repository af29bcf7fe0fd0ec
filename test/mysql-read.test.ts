/**
 * examples/mysql-read end to end (root; iproute2, mariadb-server, mariadb-client): @lbkit/proxy L4 leastconn
 * over three real MariaDB servers in their own namespaces, checked with mysqlCheck; a client queries the VIP
 * while db2 stops and restarts. Asserts: db2 is taken out within fall × inter of the stop (plus one interval of
 * phase and the check timeout); no query opened after the stop fails (only one already running on db2 when it
 * shut down may be cut); while down db2 answers nothing and db1/db3 answer; it comes back within rise × inter
 * (plus the same slack) of being ready and answers again; everything the example created is gone.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";
import { requireRoot } from "./lab/netns.js";

const DEMO = fileURLToPath(new URL("../examples/mysql-read/index.mjs", import.meta.url));
const pre = requireRoot(["ip", "mariadbd", "mariadb", "mariadb-install-db"]);
const INTER = 1000;
const RISE = 2;
const FALL = 3;
const SLACK = INTER + 2000; // one interval of phase + the check timeout (default: inter)

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [DEMO, ...args], { timeout: 110_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, pid: child.pid! }),
    );
  });
}

describe("examples/mysql-read --help", () => {
  it("prints its usage and exits 0 without root", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("leastconn");
    expect(r.stdout).toContain("--inter");
  });
});

describe.skipIf(pre.skip)("examples/mysql-read", () => {
  beforeAll(() => {
    // the example's processes import the built packages, and the lab as @lbkit/lab (test/lab's dist)
    for (const p of ["core", "balancer", "healthcheck", "proxy"]) ensureBuilt(p);
    execFileSync("pnpm", ["--filter", "@lbkit/lab", "build"], { stdio: "pipe" });
  }, 120_000);

  it("db2 stops and restarts: out within fall × inter, no new connection fails, back within rise × inter", async () => {
    const r = await run(["--json", "--inter", String(INTER), "--rise", String(RISE), "--fall", String(FALL)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    console.log(JSON.stringify(s));
    expect(s.downAfterMs).not.toBeNull();
    expect(s.downAfterMs).toBeLessThanOrEqual(FALL * INTER + SLACK);
    expect(s.db2Events[0]).toMatchObject({ from: "up", to: "down" });
    expect(s.db2Events.at(-1)).toMatchObject({ from: "down", to: "up" });
    expect(s.db2Events.at(-1).reason).toContain("L7OK");
    expect(s.upAfterMs).not.toBeNull();
    expect(s.upAfterMs).toBeLessThanOrEqual(RISE * INTER + SLACK);
    expect(s.queries).toBeGreaterThan(60);
    expect(s.failedOther).toBe(0);
    expect(s.failedInFlightAtStop).toBeLessThanOrEqual(3); // SLEEP(0.2) every 100 ms: at most ~2 on db2 at once
    for (const db of ["db1", "db2", "db3"]) expect(s.before[db], db).toBeGreaterThan(0); // leastconn spreads
    expect(s.whileDown.db2).toBe(0);
    expect(s.whileDown.db1 + s.whileDown.db3).toBeGreaterThan(5);
    expect(s.afterUp.db2).toBeGreaterThan(0);
    expect(execFileSync("ip", ["netns", "list"], { encoding: "utf8" })).not.toContain(`lbk-${r.pid}-`);
    expect(existsSync(`/proc/${r.pid}`)).toBe(false);
  }, 120_000);
});
