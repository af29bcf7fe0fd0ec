import type net from "node:net";
import { describe, expect, it } from "vitest";
import { blackhole } from "./proxy/blackhole.js";
import { connect, origin, partialHeadThenFresh, readAll, until } from "./proxy/helpers.js";
import { cleanups, l7, origins, raw, request, server } from "./proxy/l7-setup.js";
import { type HttpOrigin, parseStatus } from "./proxy/origin-http.js";

describe("L7 HTTP proxy: edges", () => {
  it("timeout connect: 503 sC after the retries, each attempt bounded", async () => {
    const bh = await blackhole();
    cleanups.push(() => bh.close());
    const { port, logs } = await l7([
      {
        id: "be",
        retries: 1,
        timeouts: { connect: 200 },
        servers: [{ id: "bh", address: "127.0.0.1", port: bh.port }],
      },
    ]);
    const t0 = performance.now();
    const r = await request(port, { path: "/" });
    const took = performance.now() - t0;
    expect(r.status).toBe(503);
    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(5000);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]).toMatchObject({ termination: "sC", retries: 1 });
  });

  it("timeout client while the request body is due: cH, the server connection closed", async () => {
    const [a] = await origins("a");
    const { port, logs } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], {
      timeouts: { client: 200 },
    });
    const c = await connect(port);
    const all = readAll(c);
    c.write("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    await all;
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]?.termination).toBe("cH");
    expect(await until(() => (a as HttpOrigin).sockets.size === 0)).toBe(true);
  });

  it("timeout server in the middle of a response body: sD, the client's response cut short", async () => {
    const o = await origin((s) =>
      s.once("data", () => s.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part")),
    );
    cleanups.push(() => o.close());
    const { port, logs } = await l7([
      { id: "be", timeouts: { server: 200 }, servers: [{ id: "o", address: "127.0.0.1", port: o.port }] },
    ]);
    const text = await raw(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(parseStatus(text)).toBe(200);
    expect(text.endsWith("only-part")).toBe(true);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]?.termination).toBe("sD");
  });

  it("an invalid response head is 502 PH; a malformed chunked request body is 400 and closes both sides", async () => {
    const bad = await origin((s) =>
      s.once("data", () => s.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx")),
    );
    cleanups.push(() => bad.close());
    const { port, logs } = await l7([
      { id: "be", retries: 0, servers: [{ id: "bad", address: "127.0.0.1", port: bad.port }] },
    ]);
    expect(parseStatus(await raw(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))).toBe(502);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]?.termination).toBe("PH");
    const [a] = await origins("a");
    const p2 = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const text = await raw(
      p2.port,
      "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n",
    );
    expect(parseStatus(text)).toBe(400);
    expect(await until(() => (a as HttpOrigin).sockets.size === 0)).toBe(true);
  });

  it("a whole response in one read goes on byte for byte; a Connection: close client, a split body and stray bytes after one take the full path", async () => {
    // each request gets one of these, written at once (the proxy reads each as one chunk on loopback)
    const answers: Record<string, string[]> = {
      "/whole": ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\nhello"],
      "/split": ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", "llo"],
      "/stray": ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloXX"],
    };
    const up = await origin((s) => {
      let pending = "";
      s.on("data", async (d: Buffer) => {
        pending += String(d);
        for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
          const path = pending.split(" ")[1] as string;
          pending = pending.slice(end + 4);
          for (const part of answers[path] ?? []) {
            s.write(part);
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      });
    });
    cleanups.push(() => up.close());
    const { port, logs } = await l7([
      { id: "be", retries: 0, servers: [{ id: "u", address: "127.0.0.1", port: up.port }] },
    ]);
    const c = await connect(port);
    let got = "";
    c.on("data", (d: Buffer) => {
      got += String(d);
    });
    const exchange = async (req: string) => {
      got = "";
      c.write(req);
      expect(await until(() => got.endsWith("hello"))).toBe(true);
      await new Promise((r) => setTimeout(r, 60)); // anything after the body would have arrived by now
      return got;
    };
    const whole = answers["/whole"]?.[0] as string;
    expect(await exchange("GET /whole HTTP/1.1\r\nHost: x\r\n\r\n")).toBe(whole);
    expect(await exchange("GET /whole HTTP/1.1\r\nHost: x\r\n\r\n")).toBe(whole);
    expect(up.accepted).toBe(1); // the server connection was kept and reused
    expect(await exchange("GET /split HTTP/1.1\r\nHost: x\r\n\r\n")).toMatch(
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/,
    );
    expect(up.accepted).toBe(1);
    // the stray bytes never reach the client, and that server connection is out of step: not reused
    expect(await exchange("GET /stray HTTP/1.1\r\nHost: x\r\n\r\n")).toMatch(
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/,
    );
    c.destroy();
    expect(await until(() => logs.length === 4)).toBe(true);
    expect(logs.map((l) => l.status)).toEqual([200, 200, 200, 200]);
    // a Connection: close client gets the close, so not the bytes as received; a new server connection serves it
    const c2 = await connect(port);
    const all2 = readAll(c2);
    c2.write("GET /whole HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const text = String(await all2);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.toLowerCase()).toContain("connection: close");
    expect(text.toLowerCase()).not.toContain("connection: keep-alive");
    expect(text.endsWith("\r\n\r\nhello")).toBe(true);
    expect(up.accepted).toBe(2);
  });

  it("a retry after part of a response head starts reading the next server's answer afresh (nothing of the first kept)", async () => {
    const up = await partialHeadThenFresh();
    cleanups.push(() => up.close());
    const { port, logs } = await l7([
      { id: "be", retries: 1, servers: [{ id: "u", address: "127.0.0.1", port: up.port }] },
    ]);
    const text = await raw(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(parseStatus(text)).toBe(200);
    expect(text).not.toContain("X-Bad");
    expect(text.endsWith("\r\n\r\nfresh")).toBe(true);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]).toMatchObject({ status: 200, retries: 1, termination: "--" });
  });

  it("a kept-alive upstream connection the server closed while idle is not reused: the next request still succeeds", async () => {
    const [a] = await origins("a");
    (a as HttpOrigin).server.keepAliveTimeout = 100;
    const { port, logs } = await l7([{ id: "be", retries: 0, servers: [server(a as HttpOrigin)] }]);
    for (let i = 0; i < 3; i++) {
      expect((await request(port, { path: `/${i}` })).status).toBe(200);
      expect((await request(port, { method: "POST", path: `/p${i}`, body: "x" })).status).toBe(200);
      // the origin closes its idle connections after 100 ms; the proxy must notice and not reuse them
      expect(await until(() => (a as HttpOrigin).sockets.size === 0)).toBe(true);
    }
    expect(logs.every((l) => l.termination === "--")).toBe(true);
  });

  it("hands the request's hash keys to the balancer: header, URL parameter and URI stick to one server", async () => {
    const [a, b, c] = await origins("a", "b", "c");
    const servers = [server(a as HttpOrigin), server(b as HttpOrigin), server(c as HttpOrigin)];
    const { port } = await l7(
      [
        { id: "hdr", balance: "hdr(x-user)", servers },
        { id: "param", balance: "url_param(id)", servers },
        { id: "uri", balance: "uri", servers },
      ],
      {
        rules: [
          { useBackend: "param", pathPrefix: "/param" },
          { useBackend: "uri", pathPrefix: "/uri" },
        ],
        defaultBackend: "hdr",
      },
    );
    const seen = async (opts: Parameters<typeof request>[1]) => {
      const ids = new Set<string>();
      for (let i = 0; i < 6; i++) ids.add((await request(port, opts)).headers["x-server"] as string);
      return ids.size;
    };
    expect(await seen({ path: "/", headers: { "x-user": "alice" } })).toBe(1);
    expect(await seen({ path: "/param?id=42&x=1" })).toBe(1);
    expect(await seen({ path: "/uri/some/thing" })).toBe(1);
    const spread = new Set<string>();
    for (let i = 0; i < 30; i++)
      spread.add(
        (await request(port, { path: "/", headers: { "x-user": `u${i}` } })).headers["x-server"] as string,
      );
    expect(spread.size).toBeGreaterThan(1);
  });

  it("passive health: 5xx answers observed at layer 7 take a server out", async () => {
    const [a, b] = await origins("a", "b");
    const { p, port } = await l7([
      {
        id: "be",
        balance: "first",
        passive: { observe: "layer7", errorLimit: 3, onError: "mark-down" },
        // a passing active check would reset the passive count: the first one is due at a random point within
        // one interval, so the longest interval keeps it out of these few requests
        healthCheck: { inter: 86_400_000 },
        servers: [server(a as HttpOrigin, { check: true }), server(b as HttpOrigin, { check: true })],
      },
    ]);
    const changes: string[] = [];
    p.on("change", (e) => changes.push(`${e.id}:${e.to}`));
    for (let i = 0; i < 3; i++) expect((await request(port, { path: "/status?code=500" })).status).toBe(500);
    expect(await until(() => changes.includes("a:down"))).toBe(true);
    expect((await request(port, { path: "/" })).headers["x-server"]).toBe("b");
  });

  it("frees everything when the client leaves during a long upload (no upstream leak)", async () => {
    const [a] = await origins("a");
    const { p, port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const c: net.Socket = await connect(port);
    c.write("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
    c.write(Buffer.alloc(1_000_000));
    await until(() => (a as HttpOrigin).hits === 1);
    c.resetAndDestroy();
    expect(await until(() => (a as HttpOrigin).sockets.size === 0 && p.connections === 0)).toBe(true);
  });

  it("tunnels CONNECT when the frontend enables it (2xx → raw bytes both ways)", async () => {
    const o = await origin((s) => {
      let head = "";
      const onData = (d: Buffer) => {
        head += d;
        if (!head.includes("\r\n\r\n")) return;
        s.off("data", onData);
        s.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        s.on("data", (x: Buffer) => s.write(x));
        s.on("end", () => s.end());
      };
      s.on("data", onData);
    });
    cleanups.push(() => o.close());
    const { port, logs } = await l7(
      [{ id: "be", servers: [{ id: "o", address: "127.0.0.1", port: o.port }] }],
      {
        connect: true,
      },
    );
    const c = await connect(port);
    const all = readAll(c);
    c.write("CONNECT db.test:5432 HTTP/1.1\r\nHost: db.test:5432\r\n\r\n");
    await new Promise<void>((r) => c.once("data", () => r()));
    c.end("raw bytes");
    const text = String(await all);
    expect(text).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n(?:[^\r]+\r\n)*\r\nraw bytes$/);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]).toMatchObject({ status: 200, termination: "--", method: "CONNECT" });
  });

  it("an exception in user code (a rule predicate) answers 500 (IR), is reported as an error, and the proxy keeps serving", async () => {
    const [a] = await origins("a");
    const { p, port, logs } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], {
      rules: [
        {
          useBackend: "be",
          predicate: (f) => {
            if (f.path === "/boom") throw new Error("boom");
            return true;
          },
        },
      ],
    });
    const errors: Error[] = [];
    p.on("error", (e) => errors.push(e));
    expect(parseStatus(await raw(port, "GET /boom HTTP/1.1\r\nHost: x\r\n\r\n"))).toBe(500);
    expect(errors.map((e) => (e as Error & { code: string }).code)).toEqual(["ERR_INTERNAL"]);
    expect(errors[0]?.cause).toEqual(new Error("boom"));
    expect((await request(port, { path: "/fine" })).status).toBe(200);
    expect(await until(() => logs.length === 2)).toBe(true);
    expect(logs[0]?.termination).toBe("IR");
  });

  it("keepAlive.maxRequests closes an upstream connection after that many requests; maxIdle 0 never reuses", async () => {
    const [a, b] = await origins("a", "b");
    const { p, port } = await l7(
      [
        { id: "be", keepAlive: { maxRequests: 2 }, servers: [server(a as HttpOrigin)] },
        { id: "never", keepAlive: { maxIdle: 0 }, servers: [server(b as HttpOrigin)] },
      ],
      { rules: [{ useBackend: "never", pathPrefix: "/never-reuse" }] },
    );
    for (let i = 0; i < 4; i++) expect((await request(port, { path: `/${i}` })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await request(port, { path: `/never-reuse/${i}` })).status).toBe(200);
    const pool = (be: string, id: string) =>
      p.backend(be).attachments.get(id) as unknown as { opened: number; reused: number };
    expect(pool("be", "a")).toMatchObject({ opened: 2, reused: 2 });
    expect(pool("never", "b")).toMatchObject({ opened: 3, reused: 0 });
  });

  it("keepAlive.idleTimeout closes an idle upstream connection (oldest first); one used in time is reused", async () => {
    const [a] = await origins("a");
    const o = a as HttpOrigin;
    const { p, port } = await l7([{ id: "be", keepAlive: { idleTimeout: 300 }, servers: [server(o)] }]);
    const pool = () => p.backend("be").attachments.get("a") as unknown as { opened: number; reused: number };
    // two connections at once, then one reused right away: both stay idle in the pool
    const [r1, r2] = await Promise.all([request(port, { path: "/1" }), request(port, { path: "/2" })]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect((await request(port, { path: "/3" })).status).toBe(200);
    expect(pool()).toMatchObject({ opened: 2, reused: 1 });
    expect(o.sockets.size).toBe(2);
    // past the idle timeout the pool closes both (the server sees them go), and the next request opens a new one
    expect(await until(() => o.sockets.size === 0)).toBe(true);
    expect((await request(port, { path: "/4" })).status).toBe(200);
    expect(pool()).toMatchObject({ opened: 3, reused: 1 });
  });

  it("a client abort while the proxy is still connecting (CC) drops the pending upstream connection", async () => {
    const bh = await blackhole();
    cleanups.push(() => bh.close());
    const { p, port, logs } = await l7([
      { id: "be", timeouts: { connect: 5000 }, servers: [{ id: "bh", address: "127.0.0.1", port: bh.port }] },
    ]);
    const c = await connect(port);
    c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // the request holds its server (the connect is pending); the client then resets
    expect(await until(() => p.backend("be").pool.get("bh")?.inFlight === 1)).toBe(true);
    c.resetAndDestroy();
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]?.termination).toBe("CC");
    expect(await until(() => p.connections === 0 && p.backend("be").pool.get("bh")?.inFlight === 0)).toBe(
      true,
    );
  });
});
