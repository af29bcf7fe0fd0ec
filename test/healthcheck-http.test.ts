/**
 * A real HTTP backend on 127.0.0.1 that stops, answers 500, hangs, resets connections and recovers, checked
 * with real timers: the target goes down after exactly `fall` failed checks, up after exactly `rise`
 * successes, and the measured detection time is within one interval of fall × inter.
 */
import http from "node:http";
import type net from "node:net";
import { type ChangeEvent, type CheckEvent, HealthChecker, httpCheck } from "@lbkit/healthcheck";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type Mode = "ok" | "500" | "hang" | "reset";
// Real timers race the machine's load: at inter 150 / timeout 100 a healthy check delayed past 100 ms by a busy
// event loop counted as a failure and broke the exact fall/rise counts. 300 / 250 leaves room for that and keeps
// the detection assertion (within one interval of fall × inter) meaningful.
const INTER = 300;
const TIMEOUT = 250;
const RISE = 2;
const FALL = 3;

let mode: Mode = "ok";
let port = 0;
let server: http.Server;
const sockets = new Set<net.Socket>();

function createServer(): http.Server {
  const s = http.createServer((req, res) => {
    if (mode === "500") {
      res.statusCode = 500;
      return res.end("internal error: db down");
    }
    if (mode === "hang") return; // accept, never answer
    if (mode === "reset") return req.socket.resetAndDestroy();
    return res.end("ok");
  });
  s.on("connection", (c) => {
    sockets.add(c);
    c.on("close", () => sockets.delete(c));
  });
  return s;
}

async function listen(p: number): Promise<void> {
  server = createServer();
  await new Promise<void>((r) => server.listen(p, "127.0.0.1", r));
  port = (server.address() as net.AddressInfo).port;
}

async function stop(): Promise<void> {
  for (const c of sockets) c.destroy();
  await new Promise((r) => server.close(r));
}

let hc: HealthChecker;
/** Each check, with when it ended on this test's clock. */
const checks: (CheckEvent & { at: number })[] = [];
const changes: (ChangeEvent & { at: number })[] = [];

function waitFor(to: string, timeoutMs: number): Promise<ChangeEvent & { at: number }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${to} within ${timeoutMs} ms`)), timeoutMs);
    const on = (e: ChangeEvent) => {
      if (e.to !== to) return;
      clearTimeout(t);
      hc.off("change", on);
      resolve({ ...e, at: performance.now() });
    };
    hc.on("change", on);
  });
}

beforeAll(async () => {
  await listen(0);
  hc = new HealthChecker();
  hc.on("check", (e) => checks.push({ ...e, at: performance.now() }));
  hc.on("change", (e) => changes.push({ ...e, at: performance.now() }));
  hc.add({
    id: "web1",
    check: httpCheck({ host: "127.0.0.1", port, path: "/health" }),
    inter: INTER,
    timeout: TIMEOUT,
    rise: RISE,
    fall: FALL,
    initState: "fully-up",
  });
  hc.start();
  await new Promise((r) => setTimeout(r, INTER * 2)); // a couple of good checks first
});

afterAll(async () => {
  await hc.stop();
  await stop();
});

/**
 * Inject a fault, wait for down, check counts and timing, then recover and wait for up. A check already in flight
 * when the fault comes may still pass (it started against a healthy backend), so only checks that started after
 * the fault are held to it. If an assertion fails, the backend is still recovered, so one failure does not leave
 * the next scenario starting from down.
 */
async function scenario(
  fault: () => Promise<void> | void,
  recover: () => Promise<void> | void,
  code: string,
) {
  expect(hc.status("web1")?.state).toBe("up");
  let recovered = false;
  try {
    const downP = waitFor("down", FALL * INTER + 2 * INTER);
    const from = checks.length;
    const t0 = performance.now();
    await fault();
    const down = await downP;
    const detection = down.at - t0;
    const seen = checks.slice(from);
    // exactly `fall` consecutive failed checks lead to the verdict; none that started after the fault passed
    expect(seen.filter((c) => c.result.status === "down")).toHaveLength(FALL);
    expect(seen.slice(-FALL).every((c) => c.result.status === "down")).toBe(true);
    // (10 ms of slack: the end of a check is stamped here when its event arrives, a little after it ended)
    const startedAfter = seen.filter((c) => c.at - c.duration >= t0 + 10);
    expect(startedAfter.filter((c) => c.result.status === "up")).toHaveLength(0);
    expect(down.code).toBe(code);
    // The last failing check started (fall − 1) to fall intervals after the fault (the first one is due within
    // one interval), and the verdict came when it ended: detection − its duration lies in that window, with
    // 150 ms for a loaded machine's event-loop delays (a hang's check lasts the whole timeout, so comparing
    // detection itself with fall × inter raced the clock).
    const lastStart = detection - down.duration;
    expect(lastStart).toBeGreaterThanOrEqual((FALL - 1) * INTER - 50);
    expect(lastStart).toBeLessThanOrEqual(FALL * INTER + 150);

    const upP = waitFor("up", RISE * INTER + 2 * INTER);
    const from2 = checks.length;
    recovered = true;
    await recover();
    const up = await upP;
    const after = checks.slice(from2);
    expect(after.filter((c) => c.result.status === "up")).toHaveLength(RISE);
    expect(after.at(-1)?.result.status).toBe("up");
    expect(up.from).toBe("down");
    return { detection, down };
  } finally {
    if (!recovered) {
      await recover();
      if (hc.status("web1")?.state !== "up") await waitFor("up", RISE * INTER + 2 * INTER).catch(() => {});
    }
  }
}

describe(`HTTP backend faults on loopback (inter ${INTER} ms, timeout ${TIMEOUT} ms, rise 2, fall 3)`, () => {
  const measured: Record<string, number> = {};
  afterAll(() => {
    console.log(
      `detection times (fall × inter = ${FALL * INTER} ms): ${Object.entries(measured)
        .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
        .join(", ")}`,
    );
  });

  it("backend stops (connection refused) → L4CON, then restarts", async () => {
    const r = await scenario(stop, () => listen(port), "L4CON");
    measured.stopped = r.detection;
  });

  it("backend answers 500 → L7STS with the body excerpt", async () => {
    const r = await scenario(
      () => {
        mode = "500";
      },
      () => {
        mode = "ok";
      },
      "L7STS",
    );
    expect(r.down.excerpt).toBe("internal error: db down");
    expect(r.down.reason).toBe("L7STS: HTTP status 500 not in 200-399");
    measured["500"] = r.detection;
  });

  it("backend hangs → L7TOUT at the check timeout", async () => {
    const r = await scenario(
      () => {
        mode = "hang";
      },
      () => {
        mode = "ok";
      },
      "L7TOUT",
    );
    expect(r.down.duration).toBeGreaterThanOrEqual(TIMEOUT - 5);
    measured.hang = r.detection;
  });

  it("backend resets connections → SOCKERR ECONNRESET", async () => {
    const r = await scenario(
      () => {
        mode = "reset";
      },
      () => {
        mode = "ok";
      },
      "SOCKERR",
    );
    expect(r.down.reason).toContain("ECONNRESET");
    measured.reset = r.detection;
  });

  it("events carried from/to, reason, check duration and time in the previous state", () => {
    expect(changes.map((c) => c.to)).toEqual(["down", "up", "down", "up", "down", "up", "down", "up"]);
    for (const c of changes) {
      expect(c.duration).toBeGreaterThanOrEqual(0);
      expect(c.since).toBeGreaterThan(0);
      expect(c.reason.length).toBeGreaterThan(0);
    }
  });
});
