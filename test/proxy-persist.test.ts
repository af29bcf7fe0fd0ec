// Persistence on loopback: cookie insert/indirect/nocache and prefix against real origins, stick tables on a
// request key and on the client address (L4), and redispatch when the sticky server goes down.

import type net from "node:net";
import { ReverseProxy } from "@lbkit/proxy";
import { describe, expect, it } from "vitest";
import { connect, origin, readAll } from "./proxy/helpers.js";
import { cleanups, l7, origins, request, server } from "./proxy/l7-setup.js";

describe("cookie persistence", () => {
  it("insert indirect nocache: Set-Cookie once, then the same server, the cookie hidden from it; a down server is redispatched", async () => {
    const [a, b] = await origins("a", "b");
    const { p, port } = await l7([
      {
        id: "be",
        balance: "roundrobin",
        cookie: { name: "SERVERID", indirect: true, nocache: true, httponly: true },
        servers: [server(a!), server(b!)],
      },
    ]);
    const first = await request(port, { path: "/" });
    const owner = JSON.parse(first.body).id as string;
    expect(first.headers["set-cookie"]).toEqual([`SERVERID=${owner}; path=/; HttpOnly`]);
    expect(first.headers["cache-control"]).toBe("private");
    for (let i = 0; i < 4; i++) {
      const r = await request(port, { path: "/", headers: { cookie: `SERVERID=${owner}; app=1` } });
      const echo = JSON.parse(r.body);
      expect(echo.id).toBe(owner);
      expect(echo.headers.cookie).toBe("app=1");
      expect(r.headers["set-cookie"]).toBeUndefined();
      expect(r.headers["cache-control"]).toBeUndefined();
    }
    p.setServer("be", owner, { state: "down" });
    const moved = await request(port, { path: "/", headers: { cookie: `SERVERID=${owner}` } });
    const other = JSON.parse(moved.body).id as string;
    expect(other).not.toBe(owner);
    expect(moved.headers["set-cookie"]).toEqual([`SERVERID=${other}; path=/; HttpOnly`]);
    expect(JSON.parse(moved.body).headers.cookie).toBeUndefined();
  });

  it("server cookie values and prefix mode: the application's cookie carries the server, stripped on the way in", async () => {
    const { port: appPort, close } = await appOrigin();
    cleanups.push(close);
    const { port } = await l7([
      {
        id: "be",
        cookie: { name: "JSESSIONID", mode: "prefix" },
        servers: [{ id: "app", address: "127.0.0.1", port: appPort, cookie: "n1" }],
      },
    ]);
    const r = await request(port, { path: "/login" });
    expect(r.headers["set-cookie"]).toEqual(["JSESSIONID=n1~abc; Path=/"]);
    const again = await request(port, { path: "/", headers: { cookie: "JSESSIONID=n1~abc" } });
    expect(again.body).toBe("cookie: JSESSIONID=abc");
  });
});

/** An origin that sets JSESSIONID=abc on /login and echoes the Cookie header it received otherwise. */
async function appOrigin(): Promise<{ port: number; close: () => Promise<void> }> {
  const http = await import("node:http");
  const srv = http.createServer((req, res) => {
    if (req.url === "/login") res.setHeader("set-cookie", "JSESSIONID=abc; Path=/");
    res.end(`cookie: ${req.headers.cookie ?? ""}`);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

describe("stick tables", () => {
  it("stick on a header: each user stays on the server it first reached, across roundrobin", async () => {
    const [a, b, c] = await origins("a", "b", "c");
    const { port } = await l7([
      {
        id: "be",
        balance: "roundrobin",
        stick: { on: "hdr(x-user)" },
        servers: [server(a!), server(b!), server(c!)],
      },
    ]);
    const where = new Map<string, Set<string>>();
    for (let i = 0; i < 12; i++) {
      const user = `u${i % 4}`;
      const r = await request(port, { path: "/", headers: { "x-user": user } });
      const set = where.get(user) ?? new Set();
      set.add(JSON.parse(r.body).id);
      where.set(user, set);
    }
    for (const s of where.values()) expect(s.size).toBe(1);
  });

  it("L4 stick on src: a client stays on its server; when that server goes down it moves and stays on the new one", async () => {
    const hits: string[] = [];
    const mk = async (id: string) => {
      const o = await origin((s) => {
        hits.push(id);
        s.end(id);
      });
      cleanups.push(() => o.close());
      return { id, address: "127.0.0.1", port: o.port };
    };
    const servers = [await mk("a"), await mk("b"), await mk("c")];
    const p = new ReverseProxy({
      frontends: [{ id: "fe", mode: "tcp", bind: "127.0.0.1:0", defaultBackend: "be" }],
      backends: [{ id: "be", mode: "tcp", balance: "roundrobin", stick: { on: "src" }, servers }],
    });
    await p.start();
    cleanups.push(() => p.stop());
    const port = (p.addresses()[0] as net.AddressInfo).port;
    const once = async () => {
      const s = await connect(port, { localAddress: "127.0.0.20" });
      const got = String(await readAll(s));
      s.end();
      return got;
    };
    const first = await once();
    expect([await once(), await once(), await once()]).toEqual([first, first, first]);
    p.setServer("be", first, { state: "down" });
    const second = await once();
    expect(second).not.toBe(first);
    expect([await once(), await once()]).toEqual([second, second]);
  });
});
