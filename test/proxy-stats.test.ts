// The operator surfaces on a live proxy over loopback: stats (JSON, CSV read with HAProxy 2.6's own header,
// Prometheus) reflect real traffic; the admin API refuses what it must and its changes reach live traffic;
// the access log has a line for normal, 503, 504 and aborted transactions.
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessLog, type AdminLogEntry, AdminServer, CSV_COLUMNS, type ReverseProxy } from "@lbkit/proxy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfSigned } from "./fixtures/self-signed.js";
import { haproxyPrerequisite, startHaproxy } from "./healthcheck/haproxy.js";
import { connect, deadPort, until } from "./proxy/helpers.js";
import { cleanups, l7, origins, request, server } from "./proxy/l7-setup.js";
import type { HttpOrigin } from "./proxy/origin-http.js";

const TOKEN = "test-token-0123456789";
const { haproxy, skip } = haproxyPrerequisite("proxy-stats (CSV header)");
let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lbkit-proxy-stats-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function admin(p: ReverseProxy, log?: AccessLog) {
  const a = new AdminServer({
    proxy: p,
    auth: { tokens: { ci: TOKEN }, users: { alice: "alice-password" } },
    ...(log ? { log } : {}),
  });
  await a.start();
  cleanups.push(() => a.stop());
  const events: AdminLogEntry[] = [];
  a.on("admin", (e) => events.push(e));
  const port = a.address()?.port as number;
  const call = (method: string, path: string, body?: unknown, auth: string | null = `Bearer ${TOKEN}`) =>
    request(port, {
      method,
      path,
      headers: auth ? { authorization: auth } : {},
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
  return { a, port, events, call };
}

function csvRows(text: string, header: string[]): Record<string, string>[] {
  return text
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((l) => Object.fromEntries(header.map((h, i) => [h, l.split(",")[i] ?? ""])));
}

describe("proxy stats on live traffic", () => {
  it("JSON, CSV and /metrics count real requests, check results and a DOWN server", async () => {
    const [a, b] = await origins("a", "b");
    const dead = await deadPort();
    const { p, port } = await l7([
      {
        id: "be",
        // a and b must stay UP: a stall (100-300 ms on a loaded CI VM) longer than a 50 ms check timeout would
        // fail a check, and a server that starts "up" (health at rise) goes down on its first failure; a 1 s
        // timeout is what keeps them up
        healthCheck: { inter: 1000, rise: 1, fall: 3, timeout: 1000 },
        servers: [
          server(a as HttpOrigin, { check: true, maxconn: 10 }),
          server(b as HttpOrigin, { check: true }),
          {
            id: "dead",
            address: "127.0.0.1",
            port: dead,
            // a refused connect is reported at once; a 1 s timeout keeps a stall from turning L4CON into L4TOUT
            check: { inter: 1000, timeout: 1000, fall: 1, rise: 1 },
          },
        ],
      },
    ]);
    const { call, a: adm } = await admin(p);
    expect(await until(() => p.backend("be").pool.get("dead")?.state === "down")).toBe(true);
    for (let i = 0; i < 6; i++) expect((await request(port, { path: "/x" })).status).toBe(200);
    expect((await request(port, { path: "/status?code=404" })).status).toBe(404);
    expect((await request(port, { path: "/status?code=500" })).status).toBe(500);
    expect((await request(port, { method: "POST", path: "/echo", body: "y".repeat(1000) })).status).toBe(200);
    // the last request's event is emitted when its transaction ends; wait for the counters to see all 9
    await until(() => adm.stats.snapshot().frontends[0]?.traffic.reqTot === 9);
    // the stats hear check results from the moment they attach: wait for a's next one rather than assume it came
    await until(() =>
      (adm.stats.snapshot().backends[0]?.servers ?? []).every(
        (s: { check?: unknown }) => s.check !== undefined,
      ),
    );

    const json = JSON.parse((await call("GET", "/stats;json")).body);
    const fe = json.frontends[0];
    expect(fe).toMatchObject({ id: "fe", mode: "http", status: "OPEN" });
    expect(fe.traffic.hrsp).toEqual([0, 7, 0, 1, 1, 0]);
    expect(fe.traffic.bin).toBeGreaterThan(1000);
    expect(fe.connTot).toBe(9);
    const be = json.backends[0];
    expect(be).toMatchObject({ id: "be", status: "UP", act: 2, algo: "roundrobin" });
    const byId = Object.fromEntries(be.servers.map((s: { id: string }) => [s.id, s]));
    expect(byId.a.traffic.stot + byId.b.traffic.stot).toBe(9);
    expect(byId.a.status).toBe("UP");
    expect(byId.a.slim).toBe(10);
    expect(byId.a.check).toMatchObject({ status: "L4OK" });
    expect(byId.dead).toMatchObject({ status: "DOWN", chkdown: 1 });
    expect(byId.dead.check.status).toBe("L4CON");
    expect(byId.dead.chkfail).toBeGreaterThanOrEqual(1);

    const csv = (await call("GET", "/stats;csv")).body;
    const rows = csvRows(csv, [...CSV_COLUMNS]);
    const row = (sv: string) => rows.find((r) => r.svname === sv) as Record<string, string>;
    expect(row("FRONTEND")).toMatchObject({
      pxname: "fe",
      hrsp_2xx: "7",
      hrsp_4xx: "1",
      hrsp_5xx: "1",
      req_tot: "9",
    });
    expect(row("dead")).toMatchObject({ status: "DOWN", check_status: "L4CON" });
    expect(Number(row("a").stot) + Number(row("b").stot)).toBe(9);
    expect(row("BACKEND")).toMatchObject({ status: "UP", act: "2", stot: "9" });

    const metrics = await call("GET", "/metrics");
    expect(metrics.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toContain('haproxy_frontend_http_requests_total{proxy="fe"} 9');
    expect(metrics.body).toContain('haproxy_server_status{proxy="be",server="dead",state="DOWN"} 1');
    expect(metrics.body).toContain('haproxy_backend_request_duration_seconds_count{proxy="be"} 9');
    expect(metrics.body).toMatch(/haproxy_backend_connect_duration_seconds_count\{proxy="be"\} \d+/);

    const html = await call("GET", "/stats");
    expect(html.headers["content-type"]).toMatch(/^text\/html/);
    expect(html.body).toContain('data-server="be/dead" data-status="DOWN"');
  });

  it.skipIf(skip)("CSV header is byte-for-byte HAProxy 2.6's, and its parser reads our rows", async () => {
    const port = await deadPort();
    const h = await startHaproxy(haproxy, dir, "stats", [
      "defaults",
      "  mode http",
      "  timeout connect 1s",
      "  timeout client 5s",
      "  timeout server 5s",
      "frontend fe",
      `  bind 127.0.0.1:${port}`,
      "  stats uri /web-status",
      "  default_backend be",
      "backend be",
      "  server s1 127.0.0.1:1",
    ]);
    cleanups.push(() => h.stop());
    const theirs = (await request(port, { path: "/web-status;csv" })).body;
    const theirHeader = theirs.split("\n")[0] as string;
    const [o] = await origins("a");
    const { p, port: lp } = await l7([{ id: "be", servers: [server(o as HttpOrigin)] }]);
    const { call } = await admin(p);
    await request(lp, { path: "/" });
    const ours = (await call("GET", "/stats;csv")).body;
    expect(ours.split("\n")[0]).toBe(theirHeader);
    // read both with the header HAProxy wrote: same row kinds, same column positions for the core fields
    const header = theirHeader.replace(/^# /, "").split(",");
    const t = csvRows(theirs, header);
    const u = csvRows(ours, header);
    expect(u.map((r) => r.svname)).toEqual(t.map((r) => r.svname).map((s) => (s === "s1" ? "a" : s)));
    for (const [i, r] of u.entries()) {
      expect(r.type).toBe(t[i]?.type);
      expect(r.pxname).toBe(t[i]?.pxname);
      expect(r.mode).toBe(t[i]?.mode);
    }
    expect(u.find((r) => r.svname === "FRONTEND")?.req_tot).toBe("1");
  });

  it.skipIf(skip)(
    "a refused server and a server timeout count the same errors as in haproxy 2.6",
    async () => {
      const [o] = await origins("slow");
      const dead = await deadPort();
      const hport = await deadPort();
      const h = await startHaproxy(haproxy, dir, "errs", [
        "defaults",
        "  mode http",
        "  timeout connect 1s",
        "  timeout client 5s",
        "  timeout server 300ms",
        "  retries 2",
        "frontend fe",
        `  bind 127.0.0.1:${hport}`,
        "  use_backend gone if { path_beg /gone }",
        "  default_backend be",
        "backend be",
        `  server s1 127.0.0.1:${(o as HttpOrigin).port}`,
        "backend gone",
        `  server d1 127.0.0.1:${dead}`,
      ]);
      cleanups.push(() => h.stop());
      const { p, port: lport } = await l7(
        [
          {
            id: "be",
            timeouts: { server: 300 },
            retryOn: ["conn-failure"], // haproxy 2.6's default retry-on; lbkit's default also retries a response timeout
            servers: [{ ...server(o as HttpOrigin), id: "s1" }],
          },
          {
            id: "gone",
            retries: 2,
            redispatch: false,
            servers: [{ id: "d1", address: "127.0.0.1", port: dead }],
          },
        ],
        { rules: [{ pathPrefix: "/gone", useBackend: "gone" }] },
      );
      const { call, a: adm } = await admin(p);
      for (const port of [hport, lport]) {
        expect((await request(port, { path: "/gone", headers: { connection: "close" } })).status).toBe(503);
        expect((await request(port, { path: "/never", headers: { connection: "close" } })).status).toBe(504);
      }
      await until(() => adm.stats.snapshot().frontends[0]?.traffic.reqTot === 2);
      const ours = csvRows((await call("GET", "/stats;csv")).body, [...CSV_COLUMNS]);
      const theirs = await h.stat();
      const pick = (rows: Record<string, string>[], px: string, sv: string, cols: string[]) => {
        const r = rows.find((x) => x.pxname === px && x.svname === sv) as Record<string, string>;
        return { px, sv, ...Object.fromEntries(cols.map((c) => [c, r[c]])) };
      };
      const cols = ["stot", "hrsp_5xx", "econ", "eresp", "wretr", "wredis", "cli_abrt", "srv_abrt"];
      const fe = ["hrsp_5xx", "ereq", "req_tot"];
      const where = [
        ["fe", "FRONTEND"],
        ["gone", "d1"],
        ["gone", "BACKEND"],
        ["be", "s1"],
        ["be", "BACKEND"],
      ] as const;
      expect(where.map(([px, sv]) => pick(ours, px, sv, px === "fe" ? fe : cols))).toEqual(
        where.map(([px, sv]) => pick(theirs, px, sv, px === "fe" ? fe : cols)),
      );
    },
  );

  it.skipIf(skip)("denied and malformed requests count as dreq and ereq, as in haproxy 2.6", async () => {
    const [o] = await origins("s1");
    const hport = await deadPort();
    const h = await startHaproxy(haproxy, dir, "deny", [
      "defaults",
      "  mode http",
      "  timeout connect 1s",
      "  timeout client 5s",
      "  timeout server 5s",
      "frontend fe",
      `  bind 127.0.0.1:${hport}`,
      "  http-request deny if { path_beg /deny }",
      "  default_backend be",
      "backend be",
      `  server s1 127.0.0.1:${(o as HttpOrigin).port}`,
    ]);
    cleanups.push(() => h.stop());
    const { p, port: lport } = await l7([{ id: "be", servers: [{ ...server(o as HttpOrigin), id: "s1" }] }], {
      httpRequest: [{ deny: true, if: (f) => f.path?.startsWith("/deny") === true }],
    });
    const { call, a: adm } = await admin(p);
    const { raw } = await import("./proxy/l7-setup.js");
    for (const port of [hport, lport]) {
      expect((await request(port, { path: "/deny/x", headers: { connection: "close" } })).status).toBe(403);
      const bad = await raw(port, "GET /bad HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
      expect(bad).toMatch(/^HTTP\/1\.1 400 /);
      expect((await request(port, { path: "/ok", headers: { connection: "close" } })).status).toBe(200);
    }
    await until(() => adm.stats.snapshot().frontends[0]?.traffic.stot === 3);
    const ours = csvRows((await call("GET", "/stats;csv")).body, [...CSV_COLUMNS]);
    const theirs = await h.stat();
    const cols = ["dreq", "ereq", "req_tot", "hrsp_2xx", "hrsp_4xx"];
    const row = (rows: Record<string, string>[], sv: string, c: string[]) => {
      const r = rows.find((x) => x.svname === sv) as Record<string, string>;
      return { sv, ...Object.fromEntries(c.map((k) => [k, r[k]])) };
    };
    expect(row(ours, "FRONTEND", cols)).toEqual(row(theirs, "FRONTEND", cols));
    expect(row(ours, "s1", ["stot", "hrsp_2xx", "hrsp_4xx"])).toEqual(
      row(theirs, "s1", ["stot", "hrsp_2xx", "hrsp_4xx"]),
    );
  });

  it.skipIf(skip)(
    "the same traffic gives the same core counters as haproxy 2.6's own show stat",
    async () => {
      const [o] = await origins("s1");
      const hport = await deadPort();
      const h = await startHaproxy(haproxy, dir, "same", [
        "defaults",
        "  mode http",
        "  timeout connect 1s",
        "  timeout client 5s",
        "  timeout server 5s",
        "frontend fe",
        `  bind 127.0.0.1:${hport}`,
        "  default_backend be",
        "backend be",
        `  server s1 127.0.0.1:${(o as HttpOrigin).port}`,
      ]);
      cleanups.push(() => h.stop());
      const { p, port: lport } = await l7([{ id: "be", servers: [server(o as HttpOrigin)] }]);
      const { call, a: adm } = await admin(p);
      for (const port of [hport, lport]) {
        for (const path of ["/a", "/b", "/status?code=404", "/status?code=503"])
          await request(port, { path, headers: { connection: "close" } });
      }
      // both read out of band (haproxy's stats socket, lbkit's admin server), so no stats request counts itself;
      // lbkit counts a transaction when its event fires, just after the response: wait for all four
      await until(() => adm.stats.snapshot().frontends[0]?.traffic.reqTot === 4);
      const ours = csvRows((await call("GET", "/stats;csv")).body, [...CSV_COLUMNS]);
      const theirs = await h.stat();
      const pick = (rows: Record<string, string>[], sv: string, cols: string[]) => {
        const r = rows.find((x) => x.svname === sv) as Record<string, string>;
        return Object.fromEntries(cols.map((c) => [c, r[c]]));
      };
      const fe = [
        "req_tot",
        "hrsp_1xx",
        "hrsp_2xx",
        "hrsp_3xx",
        "hrsp_4xx",
        "hrsp_5xx",
        "ereq",
        "dreq",
        "status",
        "type",
        "mode",
      ];
      const sv = [
        "stot",
        "hrsp_2xx",
        "hrsp_4xx",
        "hrsp_5xx",
        "econ",
        "eresp",
        "wretr",
        "status",
        "weight",
        "act",
        "bck",
        "type",
      ];
      const be = [
        "stot",
        "hrsp_2xx",
        "hrsp_4xx",
        "hrsp_5xx",
        "status",
        "weight",
        "act",
        "bck",
        "type",
        "mode",
        "algo",
      ];
      expect(pick(ours, "FRONTEND", fe)).toEqual(pick(theirs, "FRONTEND", fe));
      expect(pick(ours, "s1", sv)).toEqual(pick(theirs, "s1", sv));
      expect(pick(ours, "BACKEND", be)).toEqual(pick(theirs, "BACKEND", be));
    },
  );
});

describe("admin API on a live proxy", () => {
  it("refuses unauthenticated (401), malformed (400) and unknown (404) requests without changing anything", async () => {
    const [a, b] = await origins("a", "b");
    const { p } = await l7([{ id: "be", servers: [server(a as HttpOrigin), server(b as HttpOrigin)] }]);
    const { call, events } = await admin(p);
    const state = () =>
      JSON.stringify(p.backend("be").pool.servers.map((s) => [s.id, s.state, s.weight, s.maxConn]));
    const before = state();
    const cases: [number, string, string, unknown, string | null][] = [
      [401, "POST", "/backends/be/servers/a/disable", undefined, null],
      [401, "POST", "/backends/be/servers/a/disable", undefined, "Bearer wrong-token-0123456789"],
      [
        401,
        "POST",
        "/backends/be/servers/a/disable",
        undefined,
        `Basic ${Buffer.from("alice:nope").toString("base64")}`,
      ],
      [401, "GET", "/stats;csv", undefined, null],
      [400, "POST", "/backends/be/servers/a", "{not json", `Bearer ${TOKEN}`],
      [400, "POST", "/backends/be/servers/a", { weight: 999 }, `Bearer ${TOKEN}`],
      [400, "POST", "/backends/be/servers/a", { maxqueue: -1 }, `Bearer ${TOKEN}`],
      [400, "PUT", "/backends/be/servers/c", { address: "127.0.0.1" }, `Bearer ${TOKEN}`],
      [404, "POST", "/backends/nope/servers/a/disable", undefined, `Bearer ${TOKEN}`],
      [404, "POST", "/backends/be/servers/zz/disable", undefined, `Bearer ${TOKEN}`],
      [404, "DELETE", "/backends/be/servers/zz", undefined, `Bearer ${TOKEN}`],
      [404, "GET", "/whatever", undefined, `Bearer ${TOKEN}`],
    ];
    for (const [status, method, path, body, auth] of cases) {
      const r = await call(method, path, body, auth);
      expect(`${method} ${path} → ${r.status}`).toBe(`${method} ${path} → ${status}`);
      if (status === 401) expect(r.headers["www-authenticate"]).toMatch(/^Basic/);
    }
    expect(state()).toBe(before);
    expect(events).toEqual([]);
  });

  it("disable / enable / weight / add / remove / shutdown-sessions take effect on live traffic, logged with who", async () => {
    const [a, b, c] = await origins("a", "b", "c");
    const { p, port, logs } = await l7([
      { id: "be", timeouts: { server: 10_000 }, servers: [server(a as HttpOrigin), server(b as HttpOrigin)] },
    ]);
    const lines: string[] = [];
    const log = new AccessLog({ proxy: p, to: (l) => lines.push(...l) });
    await log.start();
    cleanups.push(() => log.stop());
    const { call, events } = await admin(p, log);
    const hits = async (n: number) => {
      const seen: string[] = [];
      for (let i = 0; i < n; i++) seen.push(String((await request(port, { path: "/" })).headers["x-server"]));
      return seen;
    };
    expect((await call("POST", "/backends/be/servers/a/disable")).status).toBe(200);
    expect(new Set(await hits(4))).toEqual(new Set(["b"]));
    expect(
      (
        await call(
          "POST",
          "/backends/be/servers/a/enable",
          undefined,
          `Basic ${Buffer.from("alice:alice-password").toString("base64")}`,
        )
      ).status,
    ).toBe(200);
    expect(new Set(await hits(4))).toEqual(new Set(["a", "b"]));
    expect((await call("POST", "/backends/be/servers/b", { weight: 0 })).status).toBe(200);
    expect(new Set(await hits(3))).toEqual(new Set(["a"]));
    expect(
      (
        await call("PUT", "/backends/be/servers/c", {
          address: "127.0.0.1",
          port: (c as HttpOrigin).port,
          weight: 5,
        })
      ).status,
    ).toBe(200);
    expect((await call("PUT", "/backends/be/servers/c", { address: "127.0.0.1", port: 1 })).status).toBe(409);
    expect((await hits(12)).filter((s) => s === "c").length).toBeGreaterThanOrEqual(8);
    expect((await call("DELETE", "/backends/be/servers/c")).status).toBe(200);
    const afterRemove = JSON.parse((await call("GET", "/stats;json")).body);
    expect(afterRemove.backends[0].servers.map((s: { id: string }) => s.id)).toEqual(["a", "b"]);
    expect(new Set(await hits(3))).toEqual(new Set(["a"]));
    expect(
      (await call("POST", "/backends/be/servers/a", { maxconn: 3, maxqueue: 4, state: "drain" })).status,
    ).toBe(200);
    expect(p.backend("be").pool.get("a")).toMatchObject({ maxConn: 3, state: "drain" });
    expect(p.backend("be").serverQueue("a")?.maxQueue).toBe(4);
    const listed = JSON.parse((await call("GET", "/servers")).body)[0].servers;
    expect(listed.find((s: { id: string }) => s.id === "a")).toMatchObject({ maxconn: 3, maxqueue: 4 });
    expect(
      csvRows((await call("GET", "/stats;csv")).body, [...CSV_COLUMNS]).find((r) => r.svname === "a"),
    ).toMatchObject({ slim: "3", qlimit: "4" });
    expect((await call("POST", "/backends/be/servers/a/enable")).status).toBe(200);
    // a request hanging on a: shutdown-sessions kills it (termination K)
    const hanging = request(port, { path: "/never" }).then(
      (r) => r.status,
      () => "killed",
    );
    await until(() => p.backend("be").pool.get("a")?.inFlight === 1);
    const r = await call("POST", "/backends/be/servers/a/shutdown-sessions");
    expect(JSON.parse(r.body).detail).toEqual({ killed: 1 });
    expect(await hanging).not.toBe(200);
    await until(() => logs.some((l) => l.path === "/never"));
    expect(logs.find((l) => l.path === "/never")?.termination[0]).toBe("K");
    expect(events.map((e) => `${e.who} ${e.action} ${e.backend}/${e.server}`)).toEqual([
      "ci set-server be/a",
      "alice set-server be/a",
      "ci set-server be/b",
      "ci add-server be/c",
      "ci del-server be/c",
      "ci set-server be/a",
      "ci set-server be/a",
      "ci shutdown-sessions be/a",
    ]);
    expect(events[0]?.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    await until(() => lines.filter((l) => l.includes('"type":"admin"')).length === 8);
    const adminLines = lines.filter((l) => l.includes('"type":"admin"')).map((l) => JSON.parse(l));
    expect(adminLines[1]).toMatchObject({
      who: "alice",
      action: "set-server",
      server: "a",
      detail: { state: "up" },
    });
  });
});

describe("admin over TLS", () => {
  it("serves HTTPS with the given certificate, same auth rules", async () => {
    const { cert, key } = selfSigned("admin.test", "IP:127.0.0.1");
    const [a] = await origins("a");
    const { p } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const adm = new AdminServer({ proxy: p, auth: { tokens: { ci: TOKEN } }, tls: { key, cert } });
    await adm.start();
    cleanups.push(() => adm.stop());
    const https = await import("node:https");
    const get = (auth?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.request(
          {
            host: "127.0.0.1",
            port: adm.address()?.port,
            path: "/servers",
            ca: cert,
            headers: auth ? { authorization: auth } : {},
          },
          (res) => {
            let body = "";
            res.on("data", (d) => {
              body += d;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", reject);
        req.end();
      });
    expect((await get()).status).toBe(401);
    const ok = await get(`Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)[0].servers[0]).toMatchObject({ id: "a", state: "up" });
    // plain HTTP to the TLS port gets nothing useful
    await expect(request(adm.address()?.port as number, { path: "/servers" })).rejects.toThrow();
  });

  it("lifecycle: a failed start leaves it startable; stop and start again", async () => {
    const net = await import("node:net");
    const [o] = await origins("a");
    const { p, port } = await l7([{ id: "be", servers: [server(o as HttpOrigin)] }]);
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    const busyPort = (busy.address() as { port: number }).port;
    const adm = new AdminServer({ proxy: p, auth: { tokens: { ci: TOKEN } }, port: busyPort });
    cleanups.push(() => adm.stop());
    await expect(adm.start()).rejects.toMatchObject({ code: "ERR_LISTEN" });
    expect(adm.address()).toBeUndefined();
    await new Promise<void>((r) => busy.close(() => r()));
    await adm.start();
    await adm.start(); // no-op while running
    const get = () =>
      request(busyPort, { path: "/stats;json", headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await get()).status).toBe(200);
    await adm.stop();
    await adm.stop(); // idempotent
    await expect(get()).rejects.toThrow();
    await request(port, { path: "/" }); // not counted while stopped (its own stats are detached)
    await adm.start();
    await request(port, { path: "/" });
    await until(() => adm.stats.snapshot().frontends[0]?.traffic.reqTot === 1);
    expect(JSON.parse((await get()).body).frontends[0].traffic.reqTot).toBe(1);
  });

  it("refuses bad admin options at construction", async () => {
    const { p } = await l7([{ id: "be", servers: [] }]);
    expect(() => new AdminServer({ proxy: p, auth: {} })).toThrow(/admin\.auth/);
    expect(() => new AdminServer({ proxy: p, auth: { tokens: { ci: "short" } } })).toThrow(/8\+ characters/);
    expect(() => new AdminServer({ proxy: p, auth: { tokens: { ci: TOKEN } }, port: 70000 })).toThrow(
      /admin\.port/,
    );
    expect(() => new AdminServer({ proxy: p, auth: { tokens: { ci: TOKEN } }, colour: 1 } as never)).toThrow(
      /admin\.colour/,
    );
  });
});

describe("access log", () => {
  it("writes httplog and JSON lines for normal, 503, 504 and aborted transactions, in batches", async () => {
    const [a] = await origins("a");
    const { p, port } = await l7(
      [
        { id: "be", timeouts: { server: 300 }, servers: [server(a as HttpOrigin)] },
        { id: "none", servers: [{ id: "m", address: "127.0.0.1", port: 1, state: "maint" }] },
      ],
      {
        rules: [{ pathPrefix: "/none", useBackend: "none" }],
        capture: { request: ["host"], response: ["x-server"] },
      },
    );
    const text: string[] = [];
    const batches: number[] = [];
    const json = new AccessLog({
      proxy: p,
      to: (l) => {
        text.push(...l);
        batches.push(l.length);
      },
    });
    const chunks: string[] = [];
    const { Writable } = await import("node:stream");
    const stream = new Writable({
      write(c, _e, cb) {
        chunks.push(String(c));
        cb();
      },
    });
    const hap = new AccessLog({ proxy: p, to: stream, format: "haproxy" });
    await json.start();
    await hap.start();
    cleanups.push(() => json.stop());
    cleanups.push(() => hap.stop());
    expect((await request(port, { path: "/ok" })).status).toBe(200);
    expect((await request(port, { path: "/none" })).status).toBe(503);
    expect((await request(port, { path: "/never" })).status).toBe(504);
    const c = await connect(port);
    c.write("GET /big?n=100000000 HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((r) => c.once("data", r)); // the response has begun: abort mid-body
    c.destroy();
    await until(() => text.length === 4);
    const recs = text.map((l) => JSON.parse(l));
    expect(recs.slice(0, 3).map((r) => `${r.path} ${r.status} ${r.termination}`)).toEqual([
      "/ok 200 --",
      "/none 503 SC",
      "/never 504 sH",
    ]);
    expect(recs[3]).toMatchObject({ path: "/big", status: 200, termination: "CD", server: "a" });
    expect(recs[0].client_port).toBeGreaterThan(0);
    expect(recs[0].conns.act).toBeGreaterThanOrEqual(1); // the client's connection, still open (keep-alive)
    expect(recs[0].conns.fe).toBeGreaterThanOrEqual(1);
    expect(recs[0]).toMatchObject({
      type: "http",
      frontend: "fe",
      backend: "be",
      server: "a",
      client: "127.0.0.1",
    });
    expect(recs[0].timers.Ta).toBeGreaterThanOrEqual(0);
    expect(recs[2].timers.Ta).toBeGreaterThanOrEqual(300);
    expect(batches.reduce((x, y) => x + y, 0)).toBe(4);
    await until(() => chunks.join("").split("\n").length === 5);
    const hl = chunks.join("").trimEnd().split("\n");
    expect(hl[0]).toMatch(
      /^127\.0\.0\.1:\d+ \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe be\/a -?\d+\/-?\d+\/-?\d+\/-?\d+\/\d+ 200 \d+ - - ---- \d+\/\d+\/\d+\/\d+\/0 0\/0 \{127\.0\.0\.1:\d+\} \{a\} "GET \/ok HTTP\/1\.1"$/,
    );
    expect(recs[0].captured.response).toEqual(["a"]);
    expect(recs[1].captured).toEqual({ request: [expect.stringMatching(/^127\.0\.0\.1:/)], response: [""] });
    expect(hl[1]).toMatch(/ fe none\/<NOSRV> .* 503 \d+ - - SC-- /);
    expect(hl[2]).toMatch(/ fe be\/a .* 504 \d+ - - sH-- /);
    expect(hl[3]).toMatch(/ fe be\/a .* 200 \d+ - - CD-- /);
  });

  it("never blocks traffic on a stalled stream: holds up to maxBuffered, counts the rest as dropped", async () => {
    const [a] = await origins("a");
    const { p, port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const { Writable } = await import("node:stream");
    const stalled = new Writable({ highWaterMark: 1, write(_c, _e, _cb) {} }); // never calls back
    const log = new AccessLog({ proxy: p, to: stalled, maxBuffered: 3 });
    await log.start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => agent.destroy());
    for (let i = 0; i < 10; i++) expect((await request(port, { path: "/" }, agent)).status).toBe(200);
    // at most 3 lines reach the stream (one batch: pending is capped at 3) before it pushes back, at most 3 are held:
    // of 10 transactions at least 4 are dropped, and the requests themselves were never slowed or failed
    expect(log.dropped).toBeGreaterThanOrEqual(4);
    await log.stop(); // resolves although the stream never drains
    stalled.destroy();
  });
});

describe("frontend stats option (HAProxy stats uri)", () => {
  it("answers <uri>, <uri>;csv and <uri>;json on the frontend itself; other paths are proxied", async () => {
    const [a] = await origins("a");
    const { p, port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], {
      stats: { uri: "/web-status", refresh: 2 },
    });
    for (let i = 0; i < 3; i++) expect((await request(port, { path: "/app" })).headers["x-server"]).toBe("a");
    await until(() => p.stats?.snapshot().frontends[0]?.traffic.reqTot === 3);
    const html = await request(port, { path: "/web-status" });
    expect(html.status).toBe(200);
    expect(html.headers["content-type"]).toMatch(/^text\/html/);
    expect(html.body).toContain('<meta http-equiv="refresh" content="2">');
    expect(html.body).toContain('data-server="be/a" data-status="no check"');
    const csv = await request(port, { path: "/web-status;csv" });
    const rows = csvRows(csv.body, [...CSV_COLUMNS]);
    expect(rows.find((r) => r.svname === "a")?.stot).toBe("3");
    const json = JSON.parse((await request(port, { path: "/web-status;json" })).body);
    expect(json.backends[0].servers[0].traffic.hrsp[1]).toBe(3);
    // HEAD: the head only; a path under the uri that is not a rendering goes to the backend
    const head = await request(port, { method: "HEAD", path: "/web-status;csv" });
    expect(head.body).toBe("");
    expect(Number(head.headers["content-length"])).toBeGreaterThan(1000);
    expect((await request(port, { path: "/web-status/other" })).headers["x-server"]).toBe("a");
    expect((a as HttpOrigin).hits).toBe(4);
  });

  it("asks for credentials with auth (HAProxy stats auth): 401 without or with wrong ones, the page with right ones", async () => {
    const [a] = await origins("a");
    const { port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], {
      stats: { uri: "/s", auth: { users: { ops: "ops-password" }, tokens: { graf: TOKEN } } },
    });
    const basic = (u: string, pw: string) => `Basic ${Buffer.from(`${u}:${pw}`).toString("base64")}`;
    const no = await request(port, { path: "/s;csv" });
    expect(no.status).toBe(401);
    expect(no.headers["www-authenticate"]).toMatch(/^Basic realm=/);
    expect(no.body).not.toContain("pxname");
    expect(
      (await request(port, { path: "/s", headers: { authorization: basic("ops", "wrong-one") } })).status,
    ).toBe(401);
    const ok = await request(port, {
      path: "/s;csv",
      headers: { authorization: basic("ops", "ops-password") },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/^# pxname,svname,/);
    expect(
      (await request(port, { path: "/s;json", headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);
    // the rest of the site is not behind the stats credentials
    expect((await request(port, { path: "/app" })).status).toBe(200);
  });

  it("is refused on a tcp frontend and with a bad uri, at construction", async () => {
    const { ReverseProxy } = await import("@lbkit/proxy");
    const mk = (fe: object) =>
      new ReverseProxy({
        frontends: [{ id: "fe", bind: "127.0.0.1:0", defaultBackend: "be", ...fe }],
        backends: [{ id: "be", mode: (fe as { mode?: "tcp" }).mode ?? "http" }],
      });
    expect(() => mk({ mode: "tcp", stats: { uri: "/s" } })).toThrow(/stats .*needs an http frontend/);
    expect(() => mk({ stats: { uri: "s" } })).toThrow(/stats\.uri/);
    expect(() => mk({ stats: { uri: "/s", refresh: -1 } })).toThrow(/stats\.refresh/);
    expect(() => mk({ stats: { uri: "/s", colour: 1 } })).toThrow(/stats\.colour/);
    expect(() => mk({ stats: { uri: "/s", auth: { users: { ops: "short" } } } })).toThrow(/stats\.auth/);
    expect(() => mk({ stats: { uri: "/s", auth: {} } })).toThrow(/stats\.auth/);
  });
});

describe("retries, redispatches and queue positions reach stats and the log", () => {
  it("a redispatched retry is +1 in httplog and wredis in the stats; queued requests log their position", async () => {
    const [a] = await origins("a");
    const dead = await deadPort();
    const { p, port, logs } = await l7([
      {
        id: "be",
        retries: 1,
        servers: [{ id: "dead", address: "127.0.0.1", port: dead }, server(a as HttpOrigin, { maxconn: 1 })],
      },
    ]);
    const lines: string[] = [];
    const log = new AccessLog({ proxy: p, to: (l) => lines.push(...l), format: "haproxy" });
    await log.start();
    cleanups.push(() => log.stop());
    const { call, a: adm } = await admin(p);
    // round robin: the first request goes to "dead", fails to connect, and its one retry is redispatched to "a"
    const r = await request(port, { path: "/first" });
    expect(r.status).toBe(200);
    expect(logs[0]).toMatchObject({ server: "a", retries: 1, redispatches: 1 });
    await until(() => lines.length === 1);
    expect(lines[0]).toMatch(/ be\/a .* 200 \d+ - - ---- \d+\/\d+\/\d+\/\d+\/\+1 0\/0 "GET \/first/);
    const be = JSON.parse((await call("GET", "/stats;json")).body).backends[0];
    expect(be.traffic).toMatchObject({ wretr: 1, wredis: 1 });
    // take "dead" out, then three slow requests at once on "a" (maxconn 1): two wait, ahead of them 0 and 1
    p.setServer("be", "dead", { state: "maint" });
    const slow = [1, 2, 3].map(() => request(port, { path: "/slow?ms=150" }));
    await until(() => p.backend("be").queue.length === 2);
    await Promise.all(slow);
    await until(() => adm.stats.snapshot().backends[0]?.traffic.stot === 4);
    const positions = logs
      .slice(1)
      .map((l) => l.queuePos)
      .sort();
    expect(positions).toEqual([-1, 0, 1]);
    await until(() => lines.length === 4);
    expect(lines.slice(1).some((l) => / 0\/1 "GET \/slow/.test(l))).toBe(true);
    expect(JSON.parse((await call("GET", "/stats;json")).body).backends[0].qmax).toBe(2);
  });
});

describe("per-server queues reach stats, metrics and the log (srv_queue)", () => {
  it("requests persisted to a full server wait in its own queue: CSV qcur/qmax, /metrics and httplog's srv_queue show it", async () => {
    const [a, b] = await origins("a", "b");
    const { p, port, logs } = await l7([
      {
        id: "be",
        cookie: { name: "SRV" },
        servers: [
          server(a as HttpOrigin, { maxconn: 1, maxqueue: 5, cookie: "a" }),
          server(b as HttpOrigin, { cookie: "b" }),
        ],
      },
    ]);
    const lines: string[] = [];
    const log = new AccessLog({ proxy: p, to: (l) => lines.push(...l), format: "haproxy" });
    await log.start();
    cleanups.push(() => log.stop());
    const { call } = await admin(p);
    const slow = [1, 2, 3].map(() => request(port, { path: "/slow?ms=300", headers: { cookie: "SRV=a" } }));
    await until(() => p.backend("be").serverQueue("a")?.length === 2);
    const row = async (sv: string) =>
      csvRows((await call("GET", "/stats;csv")).body, [...CSV_COLUMNS]).find(
        (r) => r.svname === sv,
      ) as Record<string, string>;
    expect(await row("a")).toMatchObject({ qcur: "2", qmax: "2", qlimit: "5" });
    expect(await row("BACKEND")).toMatchObject({ qcur: "0" });
    expect((await call("GET", "/metrics")).body).toContain(
      'haproxy_server_current_queue{proxy="be",server="a"} 2',
    );
    expect((await Promise.all(slow)).map((r) => r.headers["x-server"])).toEqual(["a", "a", "a"]);
    expect(await row("a")).toMatchObject({ qcur: "0", qmax: "2" });
    await until(() => lines.length === 3);
    expect(logs.map((l) => l.serverQueued ?? false).sort()).toEqual([false, true, true]);
    // srv_queue/backend_queue: the two that waited had 0 and 1 ahead of them in a's queue
    expect(lines.filter((l) => / [01]\/0 "GET \/slow/.test(l)).length).toBe(3);
    expect(lines.some((l) => / 1\/0 "GET \/slow/.test(l))).toBe(true);
  });
});

describe("L4 sessions in stats and the tcplog", () => {
  it("counts a TCP session's bytes per server and logs it as HAProxy's tcplog", async () => {
    const { origin } = await import("./proxy/helpers.js");
    const { ReverseProxy } = await import("@lbkit/proxy");
    const o = await origin((s) => {
      s.on("data", (d) => s.write(d));
      s.on("end", () => s.end());
    });
    cleanups.push(() => o.close());
    const p = new ReverseProxy({
      frontends: [{ id: "tcp-in", mode: "tcp", bind: "127.0.0.1:0", defaultBackend: "tcp-be" }],
      backends: [
        { id: "tcp-be", mode: "tcp", servers: [{ id: "echo", address: "127.0.0.1", port: o.port }] },
      ],
    });
    const lines: string[] = [];
    const log = new AccessLog({ proxy: p, to: (l) => lines.push(...l), format: "haproxy", flushInterval: 0 });
    await log.start();
    cleanups.push(() => log.stop());
    await p.start();
    cleanups.push(() => p.stop());
    const { call, a: adm } = await admin(p);
    const c = await connect(p.addresses()[0]?.port as number);
    const got: Buffer[] = [];
    c.on("data", (d: Buffer) => got.push(d));
    c.end("hello tcp");
    await new Promise((r) => c.once("close", r));
    expect(Buffer.concat(got).toString()).toBe("hello tcp");
    await until(() => adm.stats.snapshot().backends[0]?.traffic.stot === 1);
    const rows = csvRows((await call("GET", "/stats;csv")).body, [...CSV_COLUMNS]);
    const echoRow = rows.find((r) => r.svname === "echo") as Record<string, string>;
    expect(echoRow).toMatchObject({
      pxname: "tcp-be",
      stot: "1",
      bin: "9",
      bout: "9",
      mode: "tcp",
      hrsp_2xx: "",
    });
    expect(rows.find((r) => r.svname === "FRONTEND")).toMatchObject({
      pxname: "tcp-in",
      mode: "tcp",
      stot: "1",
    });
    await until(() => lines.length === 1);
    expect(lines[0]).toMatch(
      /^127\.0\.0\.1:\d+ \[[^\]]+\] tcp-in tcp-be\/echo \d+\/\d+\/\d+ 9 -- \d+\/\d+\/\d+\/\d+\/0 0\/0$/,
    );
  });
});
