/**
 * Interop, passive checks: real requests through a real HAProxy 2.6 frontend (127.0.0.1) to backends with
 * `observe layer7 error-limit 3 on-error mark-down`, each request answered with the status in its path. The
 * request after which HAProxy marks the server down must be the one after which lbkit's observe() does;
 * and, as in HAProxy, a passing active check in between clears the error count. Skips outside CI when
 * haproxy is missing (scripts/system-deps.sh installs it); fails under CI=true.
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HealthChecker, httpCheck } from "@lbkit/healthcheck";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haproxyPrerequisite, type RunningHaproxy, startHaproxy } from "./healthcheck/haproxy.js";

const { haproxy, skip } = haproxyPrerequisite("healthcheck-haproxy-observe");

/** Status sequences per backend; a `0` is a 1 s pause (during which `oe`'s 300 ms active checks pass). */
const SEQUENCES: Record<string, { inter: string; statuses: number[] }> = {
  oa: { inter: "20s", statuses: [503, 503, 503, 200] },
  ob: { inter: "20s", statuses: [503, 501, 503, 503, 505, 503, 503, 503] }, // 501 and 505 are not errors
  oc: { inter: "20s", statuses: [500, 404, 502, 504, 599, 200] },
  od: { inter: "20s", statuses: [200, 500, 500, 200, 500, 500, 500] },
  oe: { inter: "300", statuses: [503, 503, 0, 503, 503, 503] }, // a passing check in the pause clears the count
};

const dir = mkdtempSync(join(tmpdir(), "lbkit-hc-observe-"));
const servers: net.Server[] = [];
const procs: RunningHaproxy[] = [];
/** backend name → the HAProxy that serves it and its frontend port */
const where: Record<string, { hp: RunningHaproxy; port: number }> = {};
let statusPort = 0;

async function listen(srv: net.Server): Promise<number> {
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return (srv.address() as net.AddressInfo).port;
}

async function serverStatus(backend: string): Promise<string> {
  const row = (await where[backend]!.hp.stat()).find((f) => f.pxname === backend && f.svname === "s");
  return row?.status ?? "";
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * While set, active checks get no answer (HAProxy waits `timeout check`): after a sequence's pause, no check
 * can complete between its requests however slowly they go, so what clears the error count is only the pause's
 * checks — the same interleaving lbkit's synchronous loop below has. (Without it, a loaded machine spaced the
 * requests past `oe`'s 300 ms inter and HAProxy, cleared by a check in between, never marked it down.)
 */
let checksHeld: Promise<void> | undefined;
let releaseChecks = () => {};
function holdChecks(): void {
  checksHeld = new Promise((r) => {
    releaseChecks = () => {
      checksHeld = undefined;
      r();
    };
  });
}

describe.skipIf(skip)("observe/error-limit/on-error vs HAProxy 2.6 on real traffic", () => {
  beforeAll(async () => {
    if (!haproxy)
      throw new Error("haproxy is not installed; under CI=true run scripts/system-deps.sh as root");
    statusPort = await listen(
      http.createServer(async (q, s) => {
        const m = /\/(\d{3})$/.exec(q.url ?? "");
        if (q.url === "/health" && checksHeld) await checksHeld;
        s.statusCode = m ? Number(m[1]) : 200;
        s.end();
      }),
    );
    // two HAProxy processes: HAProxy spreads first checks over the smallest inter >= 1 s of all servers, so
    // the 300 ms backend gets its own process to have its checks running from the start
    const groups = [
      Object.keys(SEQUENCES).filter((n) => SEQUENCES[n]!.inter === "20s"),
      Object.keys(SEQUENCES).filter((n) => SEQUENCES[n]!.inter !== "20s"),
    ];
    for (const [g, names] of groups.entries()) {
      const probe = net.createServer();
      const port = await listen(probe);
      await new Promise((r) => probe.close(r));
      servers.pop();
      const cfg = [
        "defaults",
        "  mode http",
        "  timeout connect 200ms",
        "  timeout client 2s",
        "  timeout server 2s",
        "  timeout check 5s",
        "frontend fe",
        `  bind 127.0.0.1:${port}`,
        ...names.map((n) => `  use_backend ${n} if { path_beg /${n}/ }`),
        ...names.flatMap((n) => [
          `backend ${n}`,
          "  option httpchk GET /health",
          `  server s 127.0.0.1:${statusPort} check inter ${SEQUENCES[n]!.inter} observe layer7 error-limit 3 on-error mark-down`,
        ]),
      ];
      const hp = await startHaproxy(haproxy, dir, `haproxy${g}`, cfg);
      procs.push(hp);
      for (const n of names) where[n] = { hp, port };
    }
    await pause(500); // first active checks (the 300 ms backend) have run
  });

  afterAll(async () => {
    releaseChecks();
    for (const hp of procs) await hp.stop();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  it("marks the server down after the same request (or not at all)", async () => {
    const theirs: Record<string, number | null> = {};
    for (const [name, { statuses }] of Object.entries(SEQUENCES)) {
      theirs[name] = null;
      for (const [i, status] of statuses.entries()) {
        if (status === 0) {
          await pause(1000);
          holdChecks();
          continue;
        }
        const got = await new Promise<number>((resolve, reject) => {
          http
            .get(
              { host: "127.0.0.1", port: where[name]!.port, path: `/${name}/${status}`, agent: false },
              (res) => {
                res.resume();
                res.on("end", () => resolve(res.statusCode ?? 0));
              },
            )
            .on("error", reject);
        });
        expect(got).toBe(status); // it went through to the backend
        await pause(50);
        if ((await serverStatus(name)).startsWith("DOWN")) {
          theirs[name] = i + 1;
          break;
        }
      }
      releaseChecks();
    }

    // lbkit: the same outcomes through observe(), with real active checks (same intervals) against the backend
    const mine: Record<string, number | null> = {};
    const hc = new HealthChecker();
    for (const [name, c] of Object.entries(SEQUENCES)) {
      hc.add({
        id: name,
        check: httpCheck({ host: "127.0.0.1", port: statusPort, path: "/health" }),
        inter: c.inter === "20s" ? 20_000 : 300,
        timeout: 200,
        initState: "fully-up",
        passive: { observe: "layer7", errorLimit: 3, onError: "mark-down" },
      });
    }
    hc.start();
    await pause(500);
    for (const [name, { statuses }] of Object.entries(SEQUENCES)) {
      mine[name] = null;
      for (const [i, status] of statuses.entries()) {
        if (status === 0) {
          await pause(1000);
          continue;
        }
        hc.observe(name, { ok: status < 500, status });
        if (hc.status(name)?.state === "down") {
          mine[name] = i + 1;
          break;
        }
      }
    }
    await hc.stop();
    expect(mine).toEqual(theirs);
    expect(mine).toEqual({ oa: 3, ob: 8, oc: 5, od: 7, oe: 6 });
  });
});
