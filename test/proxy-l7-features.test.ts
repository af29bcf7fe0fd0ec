import type net from "node:net";
import { ReverseProxy } from "@lbkit/proxy";
import { describe, expect, it } from "vitest";
import { connect, readAll, until } from "./proxy/helpers.js";
import { cleanups, l7, origins, request, server } from "./proxy/l7-setup.js";
import { type HttpOrigin, parseStatus } from "./proxy/origin-http.js";
import { wsConnect, wsEchoOrigin } from "./proxy/websocket.js";

describe("L7 HTTP proxy: tunnels, rules, routing, runtime changes", () => {
  it("tunnels a WebSocket (101) both ways and closes both sides when the client leaves", async () => {
    const ws = await wsEchoOrigin();
    cleanups.push(() => ws.close());
    const { port, logs, p } = await l7([
      { id: "be", servers: [{ id: "ws", address: "127.0.0.1", port: ws.port }] },
    ]);
    const c = await wsConnect(port);
    expect(c.response).toMatch(/^HTTP\/1\.1 101/);
    expect(c.response.toLowerCase()).toContain("upgrade: websocket");
    for (const m of ["hello", "world", "x".repeat(100)]) {
      c.send(m);
      expect(await c.next()).toBe(m);
    }
    c.socket.end();
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]).toMatchObject({ status: 101, termination: "--" });
    expect(await until(() => ws.sockets.size === 0 && p.connections === 0)).toBe(true);
  });

  it("times out an idle tunnel (timeout tunnel) and tears both sides down", async () => {
    const ws = await wsEchoOrigin();
    cleanups.push(() => ws.close());
    const { port, logs } = await l7([
      { id: "be", timeouts: { tunnel: 200 }, servers: [{ id: "ws", address: "127.0.0.1", port: ws.port }] },
    ]);
    const c = await wsConnect(port);
    c.send("ping");
    expect(await c.next()).toBe("ping");
    await new Promise<void>((r) => c.socket.once("end", () => r()));
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]?.termination[0]).toMatch(/[cs]/);
    expect(await until(() => ws.sockets.size === 0)).toBe(true);
  });

  it("routes by host, path, method, header, query, client CIDR and predicate", async () => {
    const [a, b, c, d] = await origins("a", "b", "c", "d");
    const be = (o: HttpOrigin | undefined) => ({ id: `be-${o?.id}`, servers: [server(o as HttpOrigin)] });
    const { port } = await l7([be(a), be(b), be(c), be(d)], {
      defaultBackend: "be-a",
      rules: [
        { useBackend: "be-b", host: "*.api.test" },
        { useBackend: "be-c", pathPrefix: "/static/" },
        { useBackend: "be-d", method: "DELETE" },
        { useBackend: "be-b", header: { name: "x-tenant", value: /^acme$/ } },
        { useBackend: "be-c", query: { name: "v", value: "2" } },
        { useBackend: "be-d", predicate: (f) => f.path === "/pred" },
        { geo: { "10.0.0.0/8": "be-b" } },
      ],
    });
    const who = async (opts: Parameters<typeof request>[1]) =>
      (await request(port, opts)).headers["x-server"];
    expect(await who({ path: "/", headers: { host: "eu.api.test" } })).toBe("b");
    expect(await who({ path: "/static/app.js" })).toBe("c");
    expect(await who({ path: "/x", method: "DELETE" })).toBe("d");
    expect(await who({ path: "/x", headers: { "x-tenant": "acme" } })).toBe("b");
    expect(await who({ path: "/x?v=2" })).toBe("c");
    expect(await who({ path: "/pred" })).toBe("d");
    expect(await who({ path: "/other" })).toBe("a"); // 127.0.0.1 is outside 10/8: the default
  });

  it("applies http-request deny, redirect, return, set-header, del-header and http-response header edits", async () => {
    const [a] = await origins("a");
    const { port, logs } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], {
      httpRequest: [
        { setHeader: "X-Via", value: "lbkit" },
        { delHeader: "X-Secret" },
        { deny: true, if: (f) => f.path === "/admin" },
        { redirect: "https://example.test/", code: 301, if: (f) => f.path === "/old" },
        { return: 200, body: "pong", if: (f) => f.path === "/ping" },
      ],
      httpResponse: [
        { delHeader: "X-Server" },
        { setHeader: "Strict-Transport-Security", value: "max-age=600" },
      ],
    });
    expect((await request(port, { path: "/admin" })).status).toBe(403);
    const r = await request(port, { path: "/old" });
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe("https://example.test/");
    const p = await request(port, { path: "/ping" });
    expect([p.status, p.body]).toEqual([200, "pong"]);
    const fwd = JSON.parse(
      (await request(port, { path: "/x", headers: { "x-secret": "s", "x-via": "client" } })).body,
    );
    expect(fwd.headers["x-via"]).toBe("lbkit");
    const res = await request(port, { path: "/y" });
    expect(res.headers["x-server"]).toBeUndefined();
    expect(res.headers["strict-transport-security"]).toBe("max-age=600");
    expect(fwd.headers["x-secret"]).toBeUndefined();
    expect(a?.hits).toBe(2);
    expect(await until(() => logs.length === 5)).toBe(true);
    expect(logs[0]?.termination).toBe("PR");
  });

  it("applies conditional http-response rules on status, response header and request; deny (502 PH) and return replace the response", async () => {
    const [a] = await origins("a");
    const { port, logs } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], {
      httpResponse: [
        { setHeader: "Cache-Control", value: "no-store", if: (r) => r.status >= 500 },
        { delHeader: "X-Server", if: (r) => r.request.path?.startsWith("/api") === true },
        {
          addHeader: "X-Answered-By",
          value: "be",
          if: (r) => r.header("x-server") === "a" && r.backend === "be",
        },
        { deny: true, if: (r) => r.status === 418 },
        { return: 404, body: "nothing here\n", if: (r) => r.status === 410 },
      ],
    });
    const ok = await request(port, { path: "/" });
    expect([
      ok.status,
      ok.headers["cache-control"],
      ok.headers["x-server"],
      ok.headers["x-answered-by"],
    ]).toEqual([200, undefined, "a", "be"]);
    const err = await request(port, { path: "/status?code=503" });
    expect([err.status, err.headers["cache-control"]]).toEqual([503, "no-store"]);
    const api = await request(port, { path: "/api/x" });
    expect(api.headers["x-server"]).toBeUndefined();
    const denied = await request(port, { path: "/status?code=418" });
    expect(denied.status).toBe(502);
    const replaced = await request(port, { path: "/status?code=410" });
    expect([replaced.status, replaced.body]).toEqual([404, "nothing here\n"]);
    // the kept-alive client goes on after a replaced response
    const agent = new (await import("node:http")).Agent({ keepAlive: true, maxSockets: 1 });
    for (const path of ["/status?code=410", "/", "/status?code=418", "/"])
      expect((await request(port, { path }, agent)).status).toBe(
        path === "/" ? 200 : path.endsWith("410") ? 404 : 502,
      );
    agent.destroy();
    expect(await until(() => logs.length === 9)).toBe(true);
    expect(logs.find((l) => l.status === 502)?.termination).toBe("PH");
    expect(logs.filter((l) => l.status === 502).every((l) => l.server === "a")).toBe(true);
  });

  it("abortOnClose drops a request whose client half-closes during the retry turn-around (CC); without it the request gets its 503 after the retries", async () => {
    const { deadPort } = await import("./proxy/helpers.js");
    const dead = await deadPort();
    const results: { status: number | "closed"; termination: string | undefined; ms: number }[] = [];
    for (const abortOnClose of [true, false]) {
      const { port, logs } = await l7([
        {
          id: "be",
          retries: 1,
          redispatch: false,
          abortOnClose,
          timeouts: { connect: 800 },
          servers: [{ id: "dead", address: "127.0.0.1", port: dead }],
        },
      ]);
      const c = await connect(port);
      c.on("error", () => {});
      const all = readAll(c);
      const t0 = performance.now();
      c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await new Promise((r) => setTimeout(r, 200)); // the refused attempt is over: in the 800 ms turn-around
      c.end();
      const text = String(await all);
      expect(await until(() => logs.length === 1)).toBe(true);
      results.push({
        status: text ? parseStatus(text) : "closed",
        termination: logs[0]?.termination,
        ms: performance.now() - t0,
      });
    }
    expect(results[0]).toMatchObject({ status: "closed", termination: "CC" });
    expect(results[1]).toMatchObject({ status: 503, termination: "SC" });
    expect(results[1]?.ms).toBeGreaterThanOrEqual(790); // the FIN changed nothing: it waited the turn-around
  });

  it("changes servers and rules at run time without dropping a kept-alive client", async () => {
    const [a, b] = await origins("a", "b");
    const { p, port } = await l7([
      { id: "be", servers: [server(a as HttpOrigin)] },
      { id: "other", servers: [server(b as HttpOrigin)] },
    ]);
    const c = await connect(port);
    const ask = async (path: string) => {
      const got = new Promise<string>((resolve) => {
        let s = "";
        const on = (d: Buffer) => {
          s += d;
          if (/\}$/.test(s)) {
            c.off("data", on);
            resolve(s);
          }
        };
        c.on("data", on);
      });
      c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      return JSON.parse((await got).slice((await got).indexOf("\r\n\r\n") + 4)).id as string;
    };
    expect(await ask("/1")).toBe("a");
    p.addServer("be", server(b as HttpOrigin, { id: "b2" }));
    p.removeServer("be", "a");
    expect(await ask("/2")).toBe("b");
    p.setRules("fe", [{ useBackend: "other", pathPrefix: "/o" }], "be");
    expect(await ask("/o")).toBe("b");
    p.setServer("be", "b2", { state: "maint" });
    c.write("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
    const text = await new Promise<string>((r) => c.once("data", (d) => r(String(d))));
    expect(parseStatus(text)).toBe(503);
    c.destroy();
    expect(() => p.setRules("fe", [{ useBackend: "nope" }])).toThrow(/nope/);
  });

  it("marks a server down by its active check and stops sending to it", async () => {
    const [a, b] = await origins("a", "b");
    const { p, port } = await l7([
      {
        id: "be",
        healthCheck: { inter: 50, fall: 1, rise: 1 },
        servers: [
          server(a as HttpOrigin, { check: true }),
          // b must stay up for the 4 requests: a stall (100-300 ms on a loaded CI VM) longer than a 50 ms check
          // timeout would fail a check, and a server that starts "up" goes down on its first failure; a 1 s
          // timeout keeps it up. Only a needs fast checks
          server(b as HttpOrigin, { check: { inter: 1000, rise: 1, fall: 3, timeout: 1000 } }),
        ],
      },
    ]);
    const changes: string[] = [];
    p.on("change", (e) => changes.push(`${e.id}:${e.to}`));
    await (a as HttpOrigin).close();
    expect(await until(() => changes.includes("a:down"))).toBe(true);
    for (let i = 0; i < 4; i++) expect((await request(port, { path: "/" })).headers["x-server"]).toBe("b");
  });

  it("stops gracefully: in-flight requests finish, idle keep-alives close, no accepted request is lost", async () => {
    const [a] = await origins("a");
    const p = new ReverseProxy({
      frontends: [{ id: "fe", bind: "127.0.0.1:0", defaultBackend: "be" }],
      backends: [{ id: "be", servers: [server(a as HttpOrigin)] }],
      grace: 2000,
    });
    await p.start();
    const port = (p.addresses()[0] as net.AddressInfo).port;
    // a kept-alive connection idle after one response: closed by the stop
    const idle = await connect(port);
    const idleClosed = readAll(idle);
    idle.write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise<void>((r) => idle.once("data", () => r()));
    // a connection accepted before the stop whose request comes after it: still answered
    const fresh = await connect(port);
    const freshAll = readAll(fresh);
    const inflight = request(port, { path: "/slow?ms=300" });
    await until(() => (a as HttpOrigin).hits === 2);
    const stopped = p.stop();
    fresh.write("GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
    const late = String(await freshAll);
    expect(late).toMatch(/^HTTP\/1\.1 200/);
    expect(late.toLowerCase()).toContain("connection: close");
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe("close");
    await idleClosed;
    await stopped;
    expect(p.connections).toBe(0);
    expect(p.running).toBe(false);
    await expect(connect(port)).rejects.toThrow(/ECONNREFUSED/);
    // and it starts again
    await p.start();
    const port2 = (p.addresses()[0] as net.AddressInfo).port;
    expect((await request(port2, { path: "/" })).status).toBe(200);
    expect((await request(port2, { path: "/" })).status).toBe(200);
    const upstream = p.backend("be").attachments.get("a") as unknown as { opened: number; reused: number };
    expect([upstream.opened, upstream.reused]).toEqual([1, 1]); // keep-alive works again after a restart
    await p.stop();
  });

  it("refuses bad configuration at construction, naming option, value and fix", () => {
    const bad = (o: unknown) => () => new ReverseProxy(o as never);
    expect(bad({ frontends: [{ id: "fe", bind: "nope" }], backends: [] })).toThrow(
      /bind\[0\] "nope" must be/,
    );
    expect(bad({ frontends: [{ id: "fe", bind: ":80", defaultBackend: "x" }], backends: [] })).toThrow(
      /"x" is not configured/,
    );
    expect(bad({ frontends: [], backends: [{ id: "b", balance: "roundrobinn" }] })).toThrow(
      /balance "roundrobinn"/,
    );
    expect(bad({ frontends: [], backends: [{ id: "b", timeouts: { server: -1 } }] })).toThrow(
      /timeouts.server -1/,
    );
    expect(
      bad({
        frontends: [{ id: "fe", mode: "tcp", bind: ":80", defaultBackend: "b" }],
        backends: [{ id: "b", mode: "http" }],
      }),
    ).toThrow(/modes must match/);
    expect(
      bad({ frontends: [], backends: [{ id: "b", servers: [{ id: "s", address: "x", port: 70000 }] }] }),
    ).toThrow(/port 70000/);
  });

  it("frontend maxconn: connections beyond it wait unread and are served in turn", async () => {
    const [a] = await origins("a");
    const { port, p } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], { maxconn: 1 });
    const first = await connect(port);
    first.write("GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => (a as HttpOrigin).hits === 1);
    const second = await connect(port);
    const secondAll = readAll(second);
    second.write("GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await new Promise<void>((r) => first.once("data", () => r()));
    expect((a as HttpOrigin).hits).toBe(1); // the second waits while the first holds the only slot
    expect(p.connections).toBe(1);
    first.end();
    expect(String(await secondAll)).toContain('"url":"/second"');
  });
});
