/**
 * Interop: the same loopback backends and agents checked by a real HAProxy (Debian's 2.6, run in the
 * foreground on 127.0.0.1 with a stats socket) and by @lbkit/healthcheck. For every server the state
 * (UP/DOWN/DRAIN/MAINT), the check status code (L7OK, L7STS, L7TOUT, L7RSP, SOCKERR, L4OK, L4CON) and the
 * weight set by the agent must be what HAProxy reports — for HTTP checks, agent checks and tcp-check
 * send/expect sequences and HTTPS checks with SNI and certificate verification (check-ssl verify required
 * check-sni). HAProxy comes from scripts/system-deps.sh; under CI=true a missing
 * haproxy fails the suite, elsewhere the suite is skipped with the reason printed.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  agentCheck,
  bindPool,
  HealthChecker,
  httpCheck,
  type PoolLike,
  type TcpStep,
  tcpCheck,
} from "@lbkit/healthcheck";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfSigned } from "./fixtures/self-signed.js";
import { haproxyPrerequisite, type RunningHaproxy, startHaproxy } from "./healthcheck/haproxy.js";

const { haproxy, skip } = haproxyPrerequisite("healthcheck-haproxy");

type State = "up" | "down" | "drain" | "maint";
interface View {
  state: State;
  code: string;
  weight: number;
}

// Real timers on a loaded machine run 100-300 ms late at times. The flapping test sorts gaps between checks into
// the nearest of these intervals, so they lie far apart (a gap has to be 225 ms late to be misread), and a check's
// timeout leaves a healthy answer room for such a stall.
const INTER = 600;
const TIMEOUT = 500;
const FASTINTER = 150;
const DOWNINTER = 1500;
const servers: net.Server[] = [];
const dir = mkdtempSync(join(tmpdir(), "lbkit-hc-haproxy-"));
let hp: RunningHaproxy | undefined;
let hc: HealthChecker | undefined;
let backends: Record<string, number> = {};
let agents: Record<string, { port: number; reply: string }> = {};
let haproxyLog = "";

/**
 * A backend that answers its n-th request with FLAP[n] (then 200 for ever) and records, for each line
 * the caller logs, how many requests it had served — so "DOWN after check 8" can be compared.
 */
const FLAP = [200, 200, 200, 500, 500, 200, 500, 500, 500, 200, 500, 200, 200, 200];
function flapServer() {
  const state = { served: 0, times: [] as number[] };
  const server = httpServer((_q, s) => {
    s.statusCode = FLAP[state.served] ?? 200;
    state.served++;
    state.times.push(performance.now());
    s.end(String(s.statusCode));
  });
  return { state, server };
}
/**
 * `option tcp-check` scenarios, one backend each (HAProxy's tcp-check rules are per backend): the rules as
 * HAProxy config lines and as lbkit's sequence, against a small TCP server.
 */
interface TcpScenario {
  server: "redis" | "redis-err" | "silent" | "role" | "banner" | "none";
  haproxy: string[];
  sequence: TcpStep[];
}
const TCP: Record<string, TcpScenario> = {
  t_ping: {
    server: "redis",
    haproxy: ["tcp-check send PING\\r\\n", "tcp-check expect string +PONG"],
    sequence: [{ send: "PING\r\n" }, { expect: "+PONG" }],
  },
  t_err: {
    server: "redis-err",
    haproxy: ["tcp-check send PING\\r\\n", "tcp-check expect string +PONG"],
    sequence: [{ send: "PING\r\n" }, { expect: "+PONG" }],
  },
  t_silent: {
    server: "silent",
    haproxy: ["tcp-check send PING\\r\\n", "tcp-check expect string +PONG"],
    sequence: [{ send: "PING\r\n" }, { expect: "+PONG" }],
  },
  t_rstring: {
    server: "role",
    haproxy: ["tcp-check send INFO\\r\\n", "tcp-check expect rstring role:(master|slave)"],
    sequence: [{ send: "INFO\r\n" }, { expect: /role:(master|slave)/ }],
  },
  t_binary: {
    server: "banner",
    haproxy: ["tcp-check expect binary 2b4f4b"],
    sequence: [{ expect: new Uint8Array([0x2b, 0x4f, 0x4b]) }],
  },
  t_connect: { server: "silent", haproxy: [], sequence: [] },
  t_refused: { server: "none", haproxy: [], sequence: [] },
};
const tcpPorts: Record<string, number> = {};
/** Arrival times of checks at two hanging servers: one checked by HAProxy, one by lbkit. */
const hangTimes = { haproxy: [] as number[], ours: [] as number[] };
let hangTimedPort = 0;
/** HTTPS servers checked with SNI and certificate verification (HAProxy check-ssl verify required). */
const TLS: Record<string, { port: number; sni: string; ca: string; caFile: string }> = {};

function tcpServer(kind: TcpScenario["server"]): net.Server {
  return net.createServer((s) => {
    s.on("error", () => {});
    if (kind === "banner") return void s.end(Buffer.from([0x2b, 0x4f, 0x4b, 0x0d, 0x0a]));
    s.on("data", (d) => {
      const text = d.toString();
      if (kind === "redis" && text.includes("PING")) s.write("+PONG\r\n");
      if (kind === "redis-err") s.end("-ERR unknown\r\n");
      if (kind === "role" && text.includes("INFO")) s.write("# Replication\r\nrole:master\r\n");
    });
  });
}

const flapHaproxy = flapServer();
const flapOurs = flapServer();
const transitions = { haproxy: [] as string[], ours: [] as string[] };

async function listen(srv: net.Server): Promise<number> {
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return (srv.address() as net.AddressInfo).port;
}

function httpServer(handler: http.RequestListener): http.Server {
  const s = http.createServer(handler);
  s.on("clientError", (_e, sock) => sock.destroy());
  return s;
}

function agentServer(reply: string): net.Server {
  return net.createServer((s) => {
    s.on("error", () => {});
    s.end(reply);
  });
}

/** HAProxy's view of backend `be`. */
async function haproxyView(): Promise<Record<string, View & { raw: string }>> {
  const out: Record<string, View & { raw: string }> = {};
  for (const f of await hp!.stat()) {
    const px = f.pxname ?? "";
    const name = px.startsWith("t_") ? px : (f.svname ?? "");
    if (f.svname === "BACKEND" || f.svname === "FRONTEND") continue;
    if (px !== "be" && !(px.startsWith("t_") && f.svname === "s")) continue;
    const status = f.status ?? "";
    const state: State = status.startsWith("MAINT")
      ? "maint"
      : status.startsWith("DRAIN")
        ? "drain"
        : status.startsWith("DOWN")
          ? "down"
          : "up";
    out[name] = {
      state,
      code: (f.check_status ?? "").replace(/^\* /, ""),
      weight: Number(f.weight),
      raw: status,
    };
  }
  return out;
}

class Weights implements PoolLike {
  readonly servers = new Map<string, { initialWeight: number; weight: number; state: State }>();
  get(id: string) {
    return this.servers.get(id);
  }
  setState(id: string, state: State) {
    this.servers.get(id)!.state = state;
  }
  setWeight(id: string, weight: number) {
    this.servers.get(id)!.weight = weight;
  }
}

describe.skipIf(skip)("healthcheck vs HAProxy 2.6 on the same loopback backends", () => {
  const pool = new Weights();

  beforeAll(async () => {
    if (!haproxy)
      throw new Error("haproxy is not installed; under CI=true run scripts/system-deps.sh as root");
    const closed = net.createServer();
    const closedPort = await listen(closed);
    await new Promise((r) => closed.close(r));
    servers.pop();
    backends = {
      ok: await listen(httpServer((_q, s) => s.end("ok"))),
      e500: await listen(
        httpServer((_q, s) => {
          s.statusCode = 500;
          s.end("db down");
        }),
      ),
      hang: await listen(httpServer(() => {})),
      reset: await listen(httpServer((q) => q.socket.resetAndDestroy())),
      closed: closedPort,
    };
    // HTTPS with SNI: a self-signed certificate for health.test, made here with openssl
    const { cert, key } = selfSigned("health.test");
    const certFile = join(dir, "cert.pem");
    writeFileSync(certFile, cert); // haproxy reads the CA from a file
    const tlsPort = await listen(https.createServer({ cert, key }, (_q, s) => s.end("tls ok")));
    TLS.tls_ok = { port: tlsPort, sni: "health.test", ca: cert, caFile: certFile };
    TLS.tls_wrong_sni = { port: tlsPort, sni: "other.test", ca: cert, caFile: certFile };
    hangTimedPort = await listen(
      httpServer(() => {
        hangTimes.haproxy.push(performance.now());
      }),
    );
    const flapHaproxyPort = await listen(flapHaproxy.server);
    const flapOursPort = await listen(flapOurs.server);
    for (const kind of ["redis", "redis-err", "silent", "role", "banner"] as const) {
      tcpPorts[kind] = await listen(tcpServer(kind));
    }
    tcpPorts.none = closedPort;
    const replies: Record<string, string> = {
      a50: "50%\n",
      a0: "0%\n",
      a300: "300%\n",
      adrain: "drain\n",
      amaint: "maint\n",
      adown: "down #disk full\n",
      afail: "fail\n",
      aup75: "up 75%\n",
      aready25: "ready,25%\n",
      aunknown: "bogus 40%\n",
      ahash: "down#x\n", // not "down": an unknown word
      anoeol: "75%", // no CR/LF before the close: ignored
    };
    agents = {};
    for (const [name, reply] of Object.entries(replies))
      agents[name] = { port: await listen(agentServer(reply)), reply };

    const lines = [
      "defaults",
      "  mode http",
      `  timeout connect ${TIMEOUT}ms`,
      "  timeout client 1s",
      "  timeout server 1s",
      `  timeout check ${TIMEOUT}ms`,
      "backend be",
      "  option httpchk GET /health",
      `  default-server inter ${INTER} rise 1 fall 1 weight 100`,
      `  server flap 127.0.0.1:${flapHaproxyPort} check rise 2 fall 3 fastinter ${FASTINTER} downinter ${DOWNINTER}`,
      ...Object.entries(backends).map(([n, p]) => `  server ${n} 127.0.0.1:${p} check`),
      ...Object.entries(agents).map(
        ([n, a]) =>
          `  server ${n} 127.0.0.1:${backends.ok} check agent-check agent-port ${a.port} agent-inter ${INTER}`,
      ),
      ...Object.entries(TLS).map(
        ([n, t]) =>
          `  server ${n} 127.0.0.1:${t.port} check check-ssl verify required ca-file ${t.caFile} check-sni ${t.sni}`,
      ),
      "backend timing",
      "  option httpchk GET /health",
      `  server hang 127.0.0.1:${hangTimedPort} check inter ${INTER} fall 1000`,
      ...Object.entries(TCP).flatMap(([n, t]) => [
        `backend ${n}`,
        "  mode tcp",
        ...(t.haproxy.length ? ["  option tcp-check", ...t.haproxy.map((l) => `  ${l}`)] : []),
        `  server s 127.0.0.1:${tcpPorts[t.server]} check inter ${INTER} rise 1 fall 1 weight 100`,
      ]),
    ];
    hp = await startHaproxy(haproxy, dir, "haproxy", lines, (chunk) => {
      haproxyLog += chunk;
      for (const m of chunk.matchAll(/Server be\/flap is (UP|DOWN)/g)) {
        transitions.haproxy.push(`${m[1]?.toLowerCase()} after check ${flapHaproxy.state.served}`);
      }
    });

    hc = new HealthChecker();
    const common = { inter: INTER, timeout: TIMEOUT, rise: 1, fall: 1, initState: "up" as const };
    for (const [n, p] of Object.entries(backends)) {
      hc.add({ id: n, check: httpCheck({ host: "127.0.0.1", port: p, path: "/health" }), ...common });
      pool.servers.set(n, { initialWeight: 100, weight: 100, state: "up" });
    }
    for (const [n, t] of Object.entries(TLS)) {
      hc.add({
        id: n,
        check: httpCheck({
          host: "127.0.0.1",
          port: t.port,
          path: "/health",
          https: true,
          servername: t.sni,
          ca: t.ca,
        }),
        ...common,
      });
      pool.servers.set(n, { initialWeight: 100, weight: 100, state: "up" });
    }
    for (const [n, a] of Object.entries(agents)) {
      hc.add({
        id: n,
        check: httpCheck({ host: "127.0.0.1", port: backends.ok!, path: "/health" }),
        agent: { check: agentCheck({ host: "127.0.0.1", port: a.port }), inter: INTER, timeout: TIMEOUT },
        ...common,
      });
      pool.servers.set(n, { initialWeight: 100, weight: 100, state: "up" });
    }
    for (const [n, t] of Object.entries(TCP)) {
      hc.add({
        id: n,
        check: tcpCheck({ host: "127.0.0.1", port: tcpPorts[t.server]!, sequence: t.sequence }),
        ...common,
      });
      pool.servers.set(n, { initialWeight: 100, weight: 100, state: "up" });
    }
    hc.add({
      id: "flap",
      check: httpCheck({ host: "127.0.0.1", port: flapOursPort, path: "/health" }),
      ...common,
      rise: 2,
      fall: 3,
      fastinter: FASTINTER,
      downinter: DOWNINTER,
    });
    hc.on("change", (e) => {
      if (e.id === "flap") transitions.ours.push(`${e.to} after check ${flapOurs.state.served}`);
    });
    bindPool(hc, pool);
    hc.start();
  });

  afterAll(async () => {
    await hc?.stop();
    await hp?.stop();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports the same state, check status and agent weight for every server", async () => {
    const ours = (): Record<string, View> => {
      const out: Record<string, View> = {};
      for (const s of hc!.list()) {
        if (s.id === "flap") continue;
        out[s.id] = { state: s.state, code: s.lastResult?.code ?? "", weight: pool.get(s.id)!.weight };
      }
      return out;
    };
    const comparable = (theirs: Record<string, View & { raw: string }>) => {
      const out: Record<string, View> = {};
      for (const [id, v] of Object.entries(theirs)) {
        if (id === "flap") continue;
        // HAProxy suspends health checks of a server in MAINT and shows no check status for it
        out[id] = {
          state: v.state,
          code: v.state === "maint" ? (ours()[id]?.code ?? "") : v.code,
          weight: v.weight,
        };
      }
      return out;
    };
    // by server, whatever order each side lists them in (HAProxy's differs from ours)
    const same = (a: Record<string, View>, b: Record<string, View>) => {
      const flat = (v: Record<string, View>) =>
        JSON.stringify(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        );
      return flat(a) === flat(b);
    };
    let theirs: Record<string, View> = {};
    let mine: Record<string, View> = {};
    const deadline = performance.now() + 8000;
    await new Promise((r) => setTimeout(r, 4 * INTER));
    for (;;) {
      theirs = comparable(await haproxyView());
      mine = ours();
      if (same(theirs, mine) || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, INTER));
    }
    if (!same(theirs, mine)) {
      const rows = (await hp!.stat()).filter((f) => f.pxname === "be");
      for (const id of Object.keys(mine)) {
        if (JSON.stringify(mine[id]) !== JSON.stringify(theirs[id])) {
          console.log(id, JSON.stringify(rows.find((f) => f.svname === id)));
        }
      }
    }
    expect(mine).toEqual(theirs);
    // and the expectations themselves, so a change on both sides does not pass unnoticed
    expect(mine).toMatchObject({
      ok: { state: "up", code: "L7OK" },
      e500: { state: "down", code: "L7STS" },
      hang: { state: "down", code: "L7TOUT" },
      reset: { state: "down", code: "SOCKERR" },
      closed: { state: "down", code: "L4CON" },
      tls_ok: { state: "up", code: "L7OK" },
      tls_wrong_sni: { state: "down", code: "L6RSP" },
      a50: { state: "up", weight: 50 },
      a0: { state: "up", weight: 0 },
      a300: { state: "up", weight: 256 },
      adrain: { state: "drain", weight: 100 },
      amaint: { state: "maint" },
      adown: { state: "down" },
      afail: { state: "down" },
      aup75: { state: "up", weight: 75 },
      aready25: { state: "up", weight: 25 },
      aunknown: { state: "up", weight: 40 },
      ahash: { state: "up", weight: 100 },
      anoeol: { state: "up", weight: 100 },
      t_ping: { state: "up", code: "L7OK" },
      t_err: { state: "down", code: "L7RSP" },
      t_silent: { state: "down", code: "L7TOUT" },
      t_rstring: { state: "up", code: "L7OK" },
      t_binary: { state: "up", code: "L7OK" },
      t_connect: { state: "up", code: "L4OK" },
      t_refused: { state: "down", code: "L4CON" },
    });
  });

  it("rise/fall count like HAProxy's health counter on a flapping backend (rise 2, fall 3)", async () => {
    // checks 1-3 200 | 4-5 500, 6 200 (restores the counter: no three in a row) | 7-9 500 → down after 9 |
    // 10 200, 11 500 (empties the counter again), 12-13 200 → up after 13
    const deadline = performance.now() + 20_000;
    while ((transitions.haproxy.length < 2 || transitions.ours.length < 2) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(transitions.ours).toEqual(transitions.haproxy);
    expect(transitions.ours).toEqual(["down after check 9", "up after check 13"]);
    expect(haproxyLog).toContain("Server be/flap is DOWN");
    // and the same interval after each check: inter while fully up, fastinter while going up or down,
    // downinter while fully down
    const classes = (times: number[]) =>
      times
        .slice(1, 13) // checks 1..13: both sides have made them once "up after check 13" is seen
        .map((t, i) => t - times[i]!)
        .map((g) =>
          [FASTINTER, INTER, DOWNINTER].reduce((a, b) => (Math.abs(g - b) < Math.abs(g - a) ? b : a)),
        );
    expect(classes(flapOurs.state.times)).toEqual(classes(flapHaproxy.state.times));
  });

  it("intervalFrom end spaces checks of a hanging server as HAProxy does (inter + timeout)", async () => {
    const hang = http.createServer(() => {
      hangTimes.ours.push(performance.now());
    });
    const port = await listen(hang);
    const hc2 = new HealthChecker({ intervalFrom: "end" });
    hc2.add({
      id: "hang",
      check: httpCheck({ host: "127.0.0.1", port }),
      inter: INTER,
      timeout: TIMEOUT,
      fall: 1000,
    });
    hc2.start();
    await new Promise((r) => setTimeout(r, 8 * (INTER + TIMEOUT)));
    await hc2.stop();
    const gaps = (t: number[]) => t.slice(1).map((x, i) => x - t[i]!);
    const median = (g: number[]) => [...g].sort((a, b) => a - b)[Math.floor(g.length / 2)]!;
    const theirs = median(gaps(hangTimes.haproxy));
    const ours = median(gaps(hangTimes.ours));
    // medians of about eight gaps: one late timer does not move them, a steady lateness of a few ms may
    expect(Math.abs(theirs - (INTER + TIMEOUT))).toBeLessThan(60);
    expect(Math.abs(ours - theirs)).toBeLessThan(60);
  });
});
