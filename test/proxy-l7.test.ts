import http from "node:http";
import { batchedReads } from "@lbkit/proxy";
import { describe, expect, it } from "vitest";
import { connect, deadPort, readAll, until } from "./proxy/helpers.js";
import { cleanups, l7, origins, raw, request, server } from "./proxy/l7-setup.js";
import { type HttpOrigin, parseStatus } from "./proxy/origin-http.js";

describe("L7 HTTP proxy: forwarding", () => {
  it("forwards a GET with X-Forwarded-For, reuses the upstream connection for keep-alive requests", async () => {
    const [a] = await origins("a");
    const { p, port, logs } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], {
      forwardFor: true,
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => agent.destroy());
    for (let i = 0; i < 5; i++) {
      const r = await request(port, { path: `/x?i=${i}`, headers: { host: "example.test" } }, agent);
      expect(r.status).toBe(200);
      const j = JSON.parse(r.body);
      expect(j.url).toBe(`/x?i=${i}`);
      expect(j.headers["x-forwarded-for"]).toBe("127.0.0.1");
      expect(j.headers.host).toBe("example.test");
    }
    expect(a?.sockets.size).toBe(1); // one upstream connection served all five
    expect(logs.map((l) => l.termination)).toEqual(["--", "--", "--", "--", "--"]);
    expect(logs[0]).toMatchObject({
      frontend: "fe",
      backend: "be",
      server: "a",
      status: 200,
      method: "GET",
      path: "/x",
    });
    const t = logs[0]?.timers;
    expect(t && [t.request, t.queue, t.connect, t.response].every((x) => x >= 0)).toBe(true);
    expect(t && t.total >= t.request + t.connect + t.response).toBe(true);
    expect(Math.abs((logs[0]?.at ?? 0) - Date.now())).toBeLessThan(60_000);
    expect(p.connections).toBe(1);
  });

  it("streams request and response bodies: content-length and chunked both ways", async () => {
    const [a] = await origins("a");
    const { port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const body = "x".repeat(100_000);
    const r1 = await request(port, { method: "POST", path: "/echo", body });
    expect(r1.body).toBe(body);
    // chunked request (no content-length)
    const r2 = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port, method: "POST", path: "/echo", agent: false },
        (res) => {
          let s = "";
          res.on("data", (d) => {
            s += d;
          });
          res.on("end", () => resolve(s));
        },
      );
      req.on("error", reject);
      req.write("hello ");
      setTimeout(() => req.end("world"), 20);
    });
    expect(r2).toBe("hello world");
  });

  it("answers HEAD, 204 and 304 without bodies and keeps the connection usable", async () => {
    const [a] = await origins("a");
    const { port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const text = await raw(
      port,
      "HEAD /big?n=1000 HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /status?code=204 HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /status?code=304 HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(["200", "204", "304", "200"]);
    expect(text).toContain('"url":"/last"');
  });

  it("answers pipelined requests in order", async () => {
    const [a] = await origins("a");
    const { port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const reqs = ["/slow?ms=80", "/one", "/slow?ms=10", "/two"];
    const text = await raw(
      port,
      `${reqs.map((r, i) => `GET ${r} HTTP/1.1\r\nHost: x\r\n${i === reqs.length - 1 ? "Connection: close\r\n" : ""}\r\n`).join("")}`,
    );
    const bodies = text.split(/HTTP\/1\.1 200 OK/).slice(1);
    expect(bodies.length).toBe(4);
    expect(bodies[0]).toContain("slow");
    expect(bodies[1]).toContain('"url":"/one"');
    expect(bodies[2]).toContain("slow");
    expect(bodies[3]).toContain('"url":"/two"');
  });

  it("serves an HTTP/1.0 client and closes after the response", async () => {
    const [a] = await origins("a");
    const { port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const text = await raw(port, "GET /ten HTTP/1.0\r\n\r\n");
    expect(parseStatus(text)).toBe(200);
    expect(text.toLowerCase()).toContain("connection: close");
    expect(text).toContain('"version":"1.0"');
  });

  it("relays Expect: 100-continue", async () => {
    const [a] = await origins("a");
    const { port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const c = await connect(port);
    const all = readAll(c);
    c.write(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
    );
    await new Promise<void>((r) => c.once("data", (d) => (String(d).startsWith("HTTP/1.1 100") ? r() : r())));
    c.write("hello");
    const text = String(await all);
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK|HTTP\/1\.1 200 OK/);
    expect(text).toContain("\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  });

  it("refuses CONNECT unless enabled, and rejects a malformed request with 400 (PR)", async () => {
    const [a] = await origins("a");
    const { port, logs } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    expect(parseStatus(await raw(port, "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n"))).toBe(405);
    expect(
      parseStatus(
        await raw(port, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
      ),
    ).toBe(400);
    expect(
      parseStatus(
        await raw(
          port,
          "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        ),
      ),
    ).toBe(400);
    expect(await until(() => logs.length === 3)).toBe(true);
    expect(logs.map((l) => l.termination)).toEqual(["PR", "PR", "PR"]);
    expect(a?.hits).toBe(0);
  });
});

describe("L7 HTTP proxy: failures, retries, queues, timeouts", () => {
  it("retries a refused connection on another server; a GET whose server closed without answering is retried too", async () => {
    const [a] = await origins("a");
    const dead = await deadPort();
    const { port, logs } = await l7([
      {
        id: "be",
        balance: "first",
        retries: 2,
        redispatch: 1,
        servers: [{ id: "dead", address: "127.0.0.1", port: dead }, server(a as HttpOrigin)],
      },
    ]);
    const r = await request(port, { path: "/r" });
    expect(r.status).toBe(200);
    expect(r.headers["x-server"]).toBe("a");
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]).toMatchObject({ server: "a", retries: 1, termination: "--" });
  });

  it("never retries a POST whose body reached a server that then closed: 502 SH, one server hit", async () => {
    let hits = 0;
    const { origin } = await import("./proxy/helpers.js");
    const closer = await origin((s) => {
      s.once("data", () => {
        hits++;
        setTimeout(() => s.destroy(), 20);
      });
    });
    cleanups.push(() => closer.close());
    const [b] = await origins("b");
    const { port, logs } = await l7([
      {
        id: "be",
        balance: "first",
        retries: 3,
        redispatch: 1,
        servers: [{ id: "closer", address: "127.0.0.1", port: closer.port }, server(b as HttpOrigin)],
      },
    ]);
    const r = await request(port, {
      method: "POST",
      path: "/p",
      body: "payload",
      headers: { "content-type": "text/plain" },
    });
    expect(r.status).toBe(502);
    expect(hits).toBe(1);
    expect(b?.hits).toBe(0);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]).toMatchObject({ termination: "SH", retries: 0, status: 502 });
    // the same failure on a GET is retried on the other server
    const g = await request(port, { path: "/g" });
    expect(g.status).toBe(200);
    expect(g.headers["x-server"]).toBe("b");
  });

  it("answers 503 when no server is usable (SC) and when a frontend routes nowhere", async () => {
    const [a] = await origins("a");
    const { port, logs } = await l7([{ id: "be", servers: [server(a as HttpOrigin, { state: "maint" })] }]);
    expect((await request(port, { path: "/" })).status).toBe(503);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]?.termination).toBe("SC");
  });

  it("queues at maxconn and answers 503 after timeout queue (sQ); refuses beyond maxqueue", async () => {
    const [a] = await origins("a");
    const { p, port, logs } = await l7([
      // queue 1000 ms: "/w" below must be served once the 100 ms slot frees, even if a stall (100-300 ms on a
      // loaded CI VM) spans both deadlines (the timer phase would run the queue's before the response is read)
      {
        id: "be",
        maxqueue: 1,
        timeouts: { queue: 1000 },
        servers: [server(a as HttpOrigin, { maxconn: 1 })],
      },
    ]);
    // holds the slot 500 ms past "/q"'s queue timeout: timers run in deadline order and the slot frees only when
    // a later poll reads the response, so "/q" expires first whatever the stalls after it is queued
    const slow = request(port, { path: "/slow?ms=1500" });
    await until(() => (a as HttpOrigin).hits === 1);
    const queued = request(port, { path: "/q" });
    expect(await until(() => p.backend("be").queue.length === 1)).toBe(true);
    const refused = await request(port, { path: "/refused" });
    expect(refused.status).toBe(503);
    const q = await queued;
    expect(q.status).toBe(503);
    expect((await slow).status).toBe(200);
    expect(await until(() => logs.length === 3)).toBe(true);
    const byPath = Object.fromEntries(logs.map((l) => [l.path, l.termination]));
    expect(byPath["/q"]).toBe("sQ");
    expect(byPath["/slow"]).toBe("--");
    // a queued request is served when the slot frees up in time
    const s2 = request(port, { path: "/slow?ms=100" });
    await until(() => (a as HttpOrigin).hits === 2);
    const waited = await request(port, { path: "/w" });
    expect(waited.status).toBe(200);
    expect(await until(() => logs.some((l) => l.path === "/w"))).toBe(true);
    expect(logs.find((l) => l.path === "/w")?.timers.queue).toBeGreaterThan(0); // Tw: it waited for the slot
    expect((await s2).status).toBe(200);
  });

  it("timeout server before the response head: 504 sH", async () => {
    const [a] = await origins("a");
    const { port, logs } = await l7([
      { id: "be", retryOn: ["conn-failure"], timeouts: { server: 200 }, servers: [server(a as HttpOrigin)] },
    ]);
    const r = await request(port, { path: "/never" });
    expect(r.status).toBe(504);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]?.termination).toBe("sH");
  });

  it("timeout http-request against slowloris: 408 cR even while bytes keep trickling", async () => {
    const [a] = await origins("a");
    const { port, logs } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], {
      timeouts: { httpRequest: 300 },
    });
    const c = await connect(port);
    const all = readAll(c);
    const head = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let i = 0;
    const drip = setInterval(() => {
      if (!c.destroyed && !c.writableEnded) c.write(head[i++ % head.length] as string);
    }, 50);
    const text = String(await all);
    clearInterval(drip);
    expect(parseStatus(text)).toBe(408);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]?.termination).toBe("cR");
    expect(a?.hits).toBe(0);
  });

  it("the second request of a connection starts a fresh termination state: a stalled head is 408 cR, an aborted one CR", async () => {
    const [a] = await origins("a");
    const { port, logs } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], {
      timeouts: { httpRequest: 300 },
    });
    for (const [ending, want] of [
      ["stall", "cR"],
      ["abort", "CR"],
    ] as const) {
      logs.length = 0;
      const c = await connect(port);
      const all = readAll(c);
      let got = "";
      c.on("data", (d: Buffer) => {
        got += String(d);
      });
      c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      expect(await until(() => logs.length === 1 && got.includes("\r\n\r\n"))).toBe(true);
      expect(logs[0]?.termination).toBe("--");
      expect(parseStatus(got)).toBe(200);
      c.write("GET /second HTTP/1.1\r\nHost: x\r\n"); // a head that never completes
      if (ending === "abort") {
        await new Promise((r) => setTimeout(r, 50));
        c.end();
      }
      await all;
      expect(await until(() => logs.length === 2)).toBe(true);
      expect(logs[1]?.termination).toBe(want);
      if (ending === "stall") expect(got).toContain("408");
    }
  });

  it("timeout http-keep-alive closes an idle kept-alive connection", async () => {
    const [a] = await origins("a");
    const { port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }], {
      timeouts: { httpKeepAlive: 200 },
    });
    const c = await connect(port);
    const all = readAll(c);
    c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const t0 = performance.now();
    const text = String(await all);
    expect(parseStatus(text)).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it("a server killed mid-response ends the client's response (truncated chunked stream, SD), not a hang", async () => {
    const [a] = await origins("a");
    const { port, logs } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const text = await raw(port, "GET /kill-mid HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(parseStatus(text)).toBe(200);
    expect(text).toContain("partial-");
    expect(text.endsWith("0\r\n\r\n")).toBe(false);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]?.termination).toBe("SD");
  });

  it("client aborts at each phase tear down the server side (CR, CQ, CH, CD)", async () => {
    const [a] = await origins("a");
    const { port, logs, p } = await l7([{ id: "be", servers: [server(a as HttpOrigin, { maxconn: 1 })] }]);
    const o = a as HttpOrigin;
    // CR: half a head
    let c = await connect(port);
    c.end("GET / HTT"); // a FIN after the bytes: the proxy reads them before it sees the end (a reset could discard them)
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]?.termination).toBe("CR");
    // CH: waiting for the response head
    c = await connect(port);
    c.write("GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => o.hits === 1);
    // CQ: queued behind it
    const q = await connect(port);
    q.write("GET /q HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await until(() => p.backend("be").queue.length === 1)).toBe(true);
    q.resetAndDestroy();
    expect(await until(() => logs.length === 2)).toBe(true);
    expect(logs[1]?.termination).toBe("CQ");
    c.resetAndDestroy();
    expect(await until(() => logs.length === 3)).toBe(true);
    expect(logs[2]?.termination).toBe("CH");
    expect(await until(() => o.sockets.size === 0)).toBe(true);
    // CD: during a large response body
    c = await connect(port);
    c.write("GET /big?n=50000000 HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise<void>((r) => c.once("data", () => r()));
    c.resetAndDestroy();
    expect(await until(() => logs.length === 4)).toBe(true);
    expect(logs[3]?.termination).toBe("CD");
    expect(await until(() => o.sockets.size === 0)).toBe(true);
    expect(await until(() => p.connections === 0)).toBe(true);
  });
});

describe("L7 HTTP proxy: how it reads", () => {
  it("batches the reads of its lean connections where the addon is built (as in this checkout)", () => {
    const want = process.env.LBKIT_PROXY_BATCH !== "0";
    expect(batchedReads().on).toBe(want);
  });
});
