// HTTP/2 on a TLS listener (ALPN h2) proxied to HTTP/1.1 origins, with node:http2 clients: routing, bodies both
// ways (content-length, chunked without one, de-chunked responses), and the downgrade's strictness.
import { execFile } from "node:child_process";
import http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import { CSV_COLUMNS, ReverseProxy, type TransactionLog } from "@lbkit/proxy";
import { describe, expect, it } from "vitest";
import { testCa } from "./proxy/certs.js";
import { deadPort, origin, partialHeadThenFresh, until } from "./proxy/helpers.js";
import { cleanups, origins, server } from "./proxy/l7-setup.js";

const ca = testCa();
const cert = ca.leaf("h2.test");

async function h2Proxy(backendExtra: object = {}, serverExtra: object = {}) {
  const [a, b] = await origins("a", "b");
  return h2Front({ forwardFor: true, rules: [{ pathPrefix: "/b/", useBackend: "b" }] }, [
    { id: "a", servers: [server(a!, serverExtra)], ...backendExtra },
    { id: "b", servers: [server(b!)] },
  ]);
}

interface Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
  reset?: number;
}

function send(
  client: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: (string | Buffer)[],
): Promise<Reply> {
  return new Promise((resolve) => {
    const req = client.request(headers, { endStream: body === undefined });
    let status = 0;
    let got: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on("response", (h) => {
      got = h;
      status = Number(h[":status"]);
    });
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("error", () => {});
    req.on("close", () =>
      resolve({ status, headers: got, body: Buffer.concat(chunks).toString(), reset: req.rstCode }),
    );
    if (body) {
      for (const part of body) req.write(part);
      req.end();
    }
  });
}

describe("HTTP/2 → HTTP/1.1", () => {
  it("routes, forwards headers and the client address, streams bodies both ways", async () => {
    const { client, logs } = await h2Proxy();
    const r = await send(client, { ":path": "/b/x?q=1", "x-test": "yes", cookie: "a=1" });
    expect(r.status).toBe(200);
    const echo = JSON.parse(r.body);
    expect(echo.id).toBe("b");
    expect(echo.url).toBe("/b/x?q=1");
    expect(echo.version).toBe("1.1");
    expect(echo.headers["x-test"]).toBe("yes");
    expect(echo.headers.host).toMatch(/^h2\.test:\d+$/); // from :authority
    expect(echo.headers["x-forwarded-for"]).toBe("127.0.0.1");
    const post = await send(client, { ":method": "POST", ":path": "/echo", "content-length": "10" }, [
      "hello",
      "world",
    ]);
    expect(post.body).toBe("helloworld");
    const chunked = await send(client, { ":method": "POST", ":path": "/echo" }, ["no ", "length"]);
    expect(chunked.status).toBe(200);
    expect(chunked.body).toBe("no length"); // sent chunked to the origin, which streams it back chunked
    const big = await send(client, { ":path": "/big?n=300000" });
    expect(big.body.length).toBe(300000);
    expect(big.headers["transfer-encoding"]).toBeUndefined();
    expect(logs.filter((l) => l.termination === "--").length).toBe(4);
  });

  it("at maxconn, streams wait in the backend queue; beyond timeout queue they get 503", async () => {
    // queue 1000 ms: the stream waiting for a 100 ms slot must get it even if a stall (100-300 ms on a loaded CI
    // VM) spans both deadlines (the timer phase would run the queue's before the response is read)
    const { client, logs } = await h2Proxy({ timeouts: { queue: 1000 } }, { maxconn: 1 });
    const [x, y] = await Promise.all([
      send(client, { ":path": "/slow?ms=100" }),
      send(client, { ":path": "/slow?ms=100" }),
    ]);
    expect([x.status, y.status]).toEqual([200, 200]);
    // the slot is held 500 ms past the queue timeout: timers run in deadline order and the slot frees only when a
    // later poll reads the response, so the waiting stream expires first whatever the stalls
    const [s1, s2] = await Promise.all([
      send(client, { ":path": "/slow?ms=1500" }),
      send(client, { ":path": "/slow?ms=1500" }),
    ]);
    expect([s1.status, s2.status].sort()).toEqual([200, 503]);
    expect(logs.map((l) => l.termination).sort()).toEqual(["--", "--", "--", "sQ"]);
  });

  it("streams share the server's keep-alive connections", async () => {
    const { p, client } = await h2Proxy();
    for (let i = 0; i < 5; i++) expect((await send(client, { ":path": `/n${i}` })).status).toBe(200);
    const pool = p.backend("a").attachments.get("a") as unknown as { opened: number; reused: number };
    expect(pool.opened).toBe(1);
    expect(pool.reused).toBe(4);
  });

  it("DATA that disagrees with content-length resets the stream; the origin never gets a complete request", async () => {
    const { client, logs } = await h2Proxy();
    const more = await send(client, { ":method": "POST", ":path": "/count", "content-length": "3" }, [
      "12345",
    ]);
    expect(more.reset).toBe(http2.constants.NGHTTP2_PROTOCOL_ERROR);
    const less = await send(client, { ":method": "POST", ":path": "/count", "content-length": "9" }, ["12"]);
    expect(less.reset).toBe(http2.constants.NGHTTP2_PROTOCOL_ERROR);
    expect(logs.map((l) => l.termination)).toEqual(["PR", "PR"]);
    expect(logs.every((l) => l.server === undefined || l.status === undefined)).toBe(true);
  });

  it.each([
    ["a connection-specific field", { "transfer-encoding": "chunked" }],
    ["TE other than trailers", { te: "gzip" }],
    ["Upgrade", { upgrade: "websocket" }],
    ["two content-length values", { "content-length": ["1", "2"] }],
  ])("refuses %s", async (_why, extra) => {
    const { client } = await h2Proxy();
    let r: Reply;
    try {
      r = await send(client, { ":path": "/", ...extra } as http2.OutgoingHttpHeaders);
    } catch {
      return; // node's client refused to send it: nothing reached the proxy
    }
    expect(r.status === 0 || r.status === 400).toBe(true);
    expect(r.body).not.toMatch(/"id"/); // never answered by an origin
  });
});

/** A proxy with an h2 TLS frontend over `backends`, and a connected node:http2 client. */
async function h2Front(front: object, backends: object[]) {
  const p = new ReverseProxy({
    frontends: [
      {
        id: "fe",
        bind: "127.0.0.1:0",
        defaultBackend: (backends[0] as { id: string }).id,
        tls: { certificates: [cert], alpn: ["h2", "http/1.1"] },
        ...front,
      },
    ],
    backends: backends as never,
  });
  const logs: TransactionLog[] = [];
  p.on("request", (l) => logs.push(l));
  await p.start();
  cleanups.push(() => p.stop());
  const port = (p.addresses()[0] as net.AddressInfo).port;
  const client = http2.connect(`https://127.0.0.1:${port}`, { ca: ca.cert, servername: "h2.test" });
  client.on("error", () => {});
  cleanups.push(async () => void client.destroy());
  return { p, client, logs };
}

/**
 * An HTTP/1.1 origin for 1xx, trailers and failures: /hints (103 then 200), /trailers (chunked with a trailer),
 * /die (reads the request, closes without an answer), anything else echoes body, trailers and headers.
 */
const died: string[] = [];
async function featureOrigin(): Promise<number> {
  died.length = 0;
  const srv = http.createServer((req, res) => {
    if (req.url === "/die") {
      died.push(req.method as string);
      req.resume();
      req.on("end", () => req.socket.destroy());
      return;
    }
    if (req.url === "/hints") {
      res.writeEarlyHints({ link: "</a.css>; rel=preload" });
      res.end("after hints");
      return;
    }
    if (req.url === "/trailers") {
      res.setHeader("trailer", "x-sum");
      res.write("abc");
      res.addTrailers({ "x-sum": "3", "x-also": "yes" });
      res.end();
      return;
    }
    const body: Buffer[] = [];
    req.on("data", (d: Buffer) => body.push(d));
    req.on("end", () =>
      res.end(
        JSON.stringify({ body: String(Buffer.concat(body)), trailers: req.trailers, headers: req.headers }),
      ),
    );
  });
  srv.on("connection", (s) => {
    s.on("error", () => {});
    cleanups.push(async () => void s.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
  return (srv.address() as net.AddressInfo).port;
}

describe("HTTP/2 streams get what HTTP/1.1 requests get", () => {
  it("http-request deny/redirect/return and header rules, routing facts, http-response rules, the stats page", async () => {
    const [a, b] = await origins("a", "b");
    const { client, logs } = await h2Front(
      {
        stats: { uri: "/web-status" },
        httpRequest: [
          { deny: true, if: (f: { path?: string }) => f.path === "/admin" },
          { redirect: "https://elsewhere.test/", code: 301, if: (f: { path?: string }) => f.path === "/old" },
          {
            return: 200,
            body: "local",
            if: (f: { header?: (n: string) => string | undefined }) => f.header?.("x-ret") === "1",
          },
          { setHeader: "x-set", value: "yes" },
          { delHeader: "x-del" },
        ],
        httpResponse: [{ setHeader: "x-resp", value: "r" }, { delHeader: "x-powered" }],
        rules: [{ header: { name: "x-be", value: "b" }, useBackend: "b" }],
      },
      [
        { id: "a", servers: [server(a!)] },
        { id: "b", servers: [server(b!)] },
      ],
    );
    const deny = await send(client, { ":path": "/admin" });
    expect(deny.status).toBe(403);
    const moved = await send(client, { ":path": "/old" });
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe("https://elsewhere.test/");
    expect(moved.headers.connection).toBeUndefined();
    const local = await send(client, { ":path": "/x", "x-ret": "1" });
    expect([local.status, local.body]).toEqual([200, "local"]);
    const fwd = await send(client, { ":path": "/x", "x-be": "b", "x-del": "gone" });
    expect(fwd.status).toBe(200);
    const echo = JSON.parse(fwd.body);
    expect(echo.id).toBe("b"); // routed on a header fact
    expect(echo.headers["x-set"]).toBe("yes");
    expect(echo.headers["x-del"]).toBeUndefined();
    expect(fwd.headers["x-resp"]).toBe("r");
    const stats = await send(client, { ":path": "/web-status;csv" });
    expect(stats.status).toBe(200);
    expect(stats.body).toMatch(/^# pxname,svname,/);
    expect(logs.map((l) => [l.status, l.termination])).toEqual([
      [403, "PR"],
      [301, "--"],
      [200, "--"],
      [200, "--"],
      [200, "--"],
    ]);
  });

  it("conditional http-response rules: edits by condition, deny (502 PH) and return replace the server's answer", async () => {
    const [a] = await origins("a");
    const { client, logs } = await h2Front(
      {
        httpResponse: [
          { setHeader: "x-from", value: "a", if: (f: { server?: string }) => f.server === "a" },
          { setHeader: "x-never", value: "1", if: (f: { status: number }) => f.status === 500 },
          { deny: true, if: (f: { request: { path: string } }) => f.request.path === "/secret" },
          {
            return: 410,
            body: "gone",
            if: (f: { request: { path: string } }) => f.request.path === "/old",
          },
        ],
      },
      [{ id: "a", servers: [server(a!)] }],
    );
    const ok = await send(client, { ":path": "/x" });
    expect(ok.status).toBe(200);
    expect(ok.headers["x-from"]).toBe("a");
    expect(ok.headers["x-never"]).toBeUndefined();
    const denied = await send(client, { ":path": "/secret" });
    expect(denied.status).toBe(502);
    expect(denied.body).not.toContain('"id"'); // the server's body never reaches the client
    const gone = await send(client, { ":path": "/old" });
    expect([gone.status, gone.body]).toEqual([410, "gone"]);
    expect(logs.map((l) => [l.status, l.termination])).toEqual([
      [200, "--"],
      [502, "PH"],
      [410, "--"],
    ]);
    const again = await send(client, { ":path": "/x" }); // the stream after a replaced answer still works
    expect(again.status).toBe(200);
  });

  it("cookie persistence: the inserted cookie keeps a client on its server, removed before the server (indirect)", async () => {
    const [a, b] = await origins("a", "b");
    const { client } = await h2Front({}, [
      {
        id: "a",
        cookie: { name: "SERVERID", indirect: true, nocache: true },
        servers: [server(a!), server(b!)],
      },
    ]);
    const first = await send(client, { ":path": "/" });
    const owner = JSON.parse(first.body).id as string;
    expect(first.headers["set-cookie"]).toEqual([`SERVERID=${owner}; path=/`]);
    expect(first.headers["cache-control"]).toBe("private");
    for (let i = 0; i < 4; i++) {
      const r = await send(client, { ":path": "/", cookie: `SERVERID=${owner}; app=1` });
      const e = JSON.parse(r.body);
      expect(e.id).toBe(owner);
      expect(e.headers.cookie).toBe("app=1");
      expect(r.headers["set-cookie"]).toBeUndefined();
    }
  });

  it("retries and redispatches a failed connect, as on HTTP/1.1; a body sent to a server that died is not replayed", async () => {
    const [a] = await origins("a");
    const dead = await deadPort();
    const { client, logs } = await h2Front(
      { capture: { request: ["x-trace"], response: ["content-type"] } },
      [
        {
          id: "be",
          balance: "first",
          retries: 2,
          redispatch: 1,
          servers: [{ id: "dead", address: "127.0.0.1", port: dead }, server(a!)],
        },
      ],
    );
    const r = await send(client, { ":path": "/x", "x-trace": "t-1" });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).id).toBe("a");
    expect(logs[0]?.captured).toEqual({ request: ["t-1"], response: [r.headers["content-type"] ?? ""] });
    expect(logs[0]).toMatchObject({ server: "a", retries: 1, redispatches: 1, termination: "--" });
    // the log's timers and bytes, and captured headers, as an HTTP/1.1 request's
    const l = logs[0] as TransactionLog;
    expect(l.timers.queue).toBe(0);
    expect(l.timers.connect).toBeGreaterThanOrEqual(0);
    expect(l.timers.response).toBeGreaterThanOrEqual(0);
    expect(l.timers.total).toBeGreaterThanOrEqual(l.timers.connect + l.timers.response);
    expect(l.bytesOut).toBe(Buffer.byteLength(r.body));
    const post = await send(client, { ":method": "POST", ":path": "/echo" }, ["body"]);
    expect(post.body).toBe("body"); // the failed connect read none of it: the retry sends it whole
  });

  it("a stream bound by its cookie to a server at maxconn waits in that server's queue (CSV qcur), served when the slot frees", async () => {
    const [a, b] = await origins("a", "b");
    const { p, client, logs } = await h2Front({ stats: { uri: "/st" } }, [
      {
        id: "be",
        cookie: { name: "SRV" },
        servers: [server(a!, { maxconn: 1, maxqueue: 5, cookie: "a" }), server(b!, { cookie: "b" })],
      },
    ]);
    const first = send(client, { ":path": "/slow?ms=500", cookie: "SRV=a" });
    await until(() => p.backend("be").pool.get("a")?.inFlight === 1);
    const second = send(client, { ":path": "/", cookie: "SRV=a" });
    await until(() => p.backend("be").serverQueue("a")?.length === 1);
    const csv = (await send(client, { ":path": "/st;csv" })).body.split("\n");
    const col = (row: string | undefined, name: string) =>
      row?.split(",")[CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number])];
    const rowA = csv.find((l) => l.startsWith("be,a,"));
    expect([col(rowA, "qcur"), col(rowA, "qlimit")]).toEqual(["1", "5"]);
    expect(
      col(
        csv.find((l) => l.startsWith("be,BACKEND,")),
        "qcur",
      ),
    ).toBe("0"); // b had room: not the backend's
    const [r1, r2] = await Promise.all([first, second]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect([r1.headers["x-server"], r2.headers["x-server"]]).toEqual(["a", "a"]);
    const queued = logs.find((l) => l.path === "/") as TransactionLog;
    expect(queued).toMatchObject({ server: "a", serverQueued: true, queuePos: 0, termination: "--" });
    expect(queued.timers.queue).toBeGreaterThan(0);
    expect(logs.find((l) => l.path === "/slow")).toMatchObject({ queuePos: -1, termination: "--" });
    expect(logs.find((l) => l.path === "/slow")?.serverQueued).toBeUndefined();
  });

  it("a stream the client cancels while queued (CQ) or in the turn-around (CC) gives its place up at once", async () => {
    const [a] = await origins("a");
    const dead = await deadPort();
    const { p, client, logs } = await h2Front({}, [
      {
        id: "be",
        cookie: { name: "SRV" },
        servers: [server(a!, { maxconn: 1, cookie: "a" })],
      },
      {
        id: "dead",
        retries: 2,
        redispatch: 0,
        timeouts: { connect: 1000 },
        servers: [{ id: "d", address: "127.0.0.1", port: dead }],
      },
    ]);
    const first = send(client, { ":path": "/slow?ms=300", cookie: "SRV=a" });
    await until(() => p.backend("be").pool.get("a")?.inFlight === 1);
    const queued = client.request({ ":path": "/q", cookie: "SRV=a" });
    queued.on("error", () => {});
    await until(() => p.backend("be").serverQueue("a")?.length === 1);
    queued.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => logs.some((l) => l.path === "/q"));
    expect(logs.find((l) => l.path === "/q")).toMatchObject({ termination: "CQ", serverQueued: true });
    expect(p.backend("be").serverQueue("a")?.length).toBe(0);
    expect((await first).status).toBe(200);
    // the dead backend: the first connect fails, the retry waits 1 s; the client leaves meanwhile
    p.setRules("fe", [{ pathPrefix: "/dead", useBackend: "dead" }], "be");
    const turning = client.request({ ":path": "/dead" });
    turning.on("error", () => {});
    await until(() => (p.backend("dead").pool.get("d")?.stats.failed ?? 0) === 1);
    turning.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => logs.some((l) => l.path === "/dead"));
    expect(logs.find((l) => l.path === "/dead")).toMatchObject({
      termination: "CC",
      retries: 1,
      server: "d",
    });
    expect(p.backend("dead").pool.get("d")?.stats.failed).toBe(1); // the turn-around was given up: no second attempt
  });

  it("a failed connect retried to the same server waits the turn-around, min(timeout connect, 1 s), each time", async () => {
    const dead = await deadPort();
    const { client, logs } = await h2Front({}, [
      {
        id: "be",
        retries: 2,
        redispatch: 0,
        timeouts: { connect: 300 },
        servers: [{ id: "dead", address: "127.0.0.1", port: dead }],
      },
    ]);
    const t0 = Date.now();
    const r = await send(client, { ":path": "/" });
    const took = Date.now() - t0;
    expect(r.status).toBe(503);
    expect(logs[0]).toMatchObject({ server: "dead", retries: 2, termination: "SC" });
    expect(took).toBeGreaterThanOrEqual(2 * 300 - 5); // two retries, each after a 300 ms turn-around
    expect(logs[0]?.duration).toBeGreaterThanOrEqual(2 * 300);
  });

  it("a request the server dropped before answering: retried when idempotent and bodiless, never a body", async () => {
    const port = await featureOrigin();
    const { client, logs } = await h2Front({}, [
      { id: "be", retries: 2, redispatch: 0, servers: [{ id: "o", address: "127.0.0.1", port }] },
    ]);
    const get = await send(client, { ":path": "/die" });
    expect(get.status).toBe(502);
    const post = await send(client, { ":method": "POST", ":path": "/die" }, ["once"]);
    expect(post.status).toBe(502);
    expect(logs.map((l) => [l.termination, l.retries])).toEqual([
      ["SH", 2],
      ["SH", 0],
    ]);
    expect(died).toEqual(["GET", "GET", "GET", "POST"]);
  });

  it("a retry after part of a response head reads the next answer afresh (nothing of the first kept)", async () => {
    const up = await partialHeadThenFresh();
    cleanups.push(() => up.close());
    const port = up.port;
    const { client, logs } = await h2Front({}, [
      { id: "be", retries: 1, servers: [{ id: "o", address: "127.0.0.1", port }] },
    ]);
    const got = await send(client, { ":path": "/" });
    expect(got.status).toBe(200);
    expect(got.headers["x-bad"]).toBeUndefined();
    expect(got.body).toBe("fresh");
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]).toMatchObject({ status: 200, retries: 1, termination: "--" });
  });

  it("sendProxy: each stream's connection starts with a PROXY header naming the h2 client, and is never reused", async () => {
    const lines: string[] = [];
    const o = await origin((sock) => {
      let buf = "";
      const onData = (d: Buffer) => {
        buf += d.toString("latin1");
        if (buf.indexOf("\r\n\r\n") < 0) return;
        sock.off("data", onData); // one request per connection read; the connection stays open (keep-alive)
        const line = buf.slice(0, buf.indexOf("\r\n"));
        lines.push(line);
        sock.write(`HTTP/1.1 200 OK\r\ncontent-length: ${line.length}\r\n\r\n${line}`);
      };
      sock.on("data", onData);
    });
    cleanups.push(() => o.close());
    const { client, logs } = await h2Front({}, [
      { id: "be", servers: [{ id: "p", address: "127.0.0.1", port: o.port, sendProxy: "v1" }] },
    ]);
    const r1 = await send(client, { ":path": "/a" });
    const r2 = await send(client, { ":path": "/b" });
    const port = (client.socket as net.Socket).localPort;
    expect(r1.body).toMatch(new RegExp(`^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 ${port} \\d+$`));
    expect(r2.body).toBe(r1.body);
    expect(lines).toHaveLength(2);
    expect(o.accepted).toBe(2); // one connection per stream, each with its header
    expect(logs.map((l) => l.clientPort)).toEqual([port, port]);
  });

  it("nghttp2's own client (h2load, 4 connections × 8 streams) gets every answer from the origin through the proxy", async () => {
    const [a, b] = await origins("a", "b");
    const { p, logs } = await h2Front({}, [{ id: "be", servers: [server(a!), server(b!)] }]);
    const port = (p.addresses()[0] as net.AddressInfo).port;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        "h2load",
        ["-n", "400", "-c", "4", "-m", "8", `https://127.0.0.1:${port}/x`],
        { timeout: 60_000 },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
    expect(out).toMatch(/Application protocol: h2/);
    expect(out).toMatch(/requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, 0 errored/);
    expect(out).toMatch(/status codes: 400 2xx/);
    expect(logs).toHaveLength(400);
    expect(new Set(logs.map((l) => l.server))).toEqual(new Set(["a", "b"]));
  });

  it("relays 103 Early Hints and 100-continue as informational HEADERS, and trailers both ways", async () => {
    const port = await featureOrigin();
    const { client, logs } = await h2Front({}, [
      { id: "o", servers: [{ id: "o", address: "127.0.0.1", port }] },
    ]);
    const hints = await new Promise<{ info: http2.IncomingHttpHeaders[]; status: number }>((resolve) => {
      const info: http2.IncomingHttpHeaders[] = [];
      const req = client.request({ ":path": "/hints" });
      req.on("error", () => {});
      req.on("headers", (h) => info.push(h));
      let status = 0;
      req.on("response", (h) => {
        status = Number(h[":status"]);
      });
      req.resume();
      req.on("close", () => resolve({ info, status }));
    });
    expect(hints.status).toBe(200);
    expect(hints.info.map((h) => [h[":status"], h.link])).toEqual([[103, "</a.css>; rel=preload"]]);

    const cont = await new Promise<{ continued: boolean; body: string }>((resolve) => {
      const req = client.request({ ":method": "POST", ":path": "/upload", expect: "100-continue" });
      req.on("error", () => {});
      let continued = false;
      const chunks: Buffer[] = [];
      req.on("continue", () => {
        continued = true;
        req.end("after continue");
      });
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("close", () => resolve({ continued, body: String(Buffer.concat(chunks)) }));
    });
    expect(cont.continued).toBe(true);
    expect(JSON.parse(cont.body).body).toBe("after continue");

    const up = await new Promise<string>((resolve) => {
      const req = client.request({ ":method": "POST", ":path": "/upload" }, { waitForTrailers: true });
      req.on("error", () => {});
      req.on("wantTrailers", () => req.sendTrailers({ "x-digest": "abc", authorization: "no" }));
      const chunks: Buffer[] = [];
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("close", () => resolve(String(Buffer.concat(chunks))));
      req.end("payload");
    });
    const bad = await new Promise<number | undefined>((resolve) => {
      const req = client.request({ ":method": "POST", ":path": "/upload" }, { waitForTrailers: true });
      req.on("error", () => {});
      req.on("wantTrailers", () => req.sendTrailers({ "content-length": "1" }));
      req.resume();
      req.on("close", () => resolve(req.rstCode));
      req.end("payload");
    });
    expect(bad).toBe(http2.constants.NGHTTP2_PROTOCOL_ERROR); // a content-length trailer that disagrees with DATA
    const got = JSON.parse(up);
    expect(got.body).toBe("payload");
    expect(got.trailers).toEqual({ "x-digest": "abc" }); // authorization is not allowed in trailers: dropped

    const down = await new Promise<{ body: string; trailers: http2.IncomingHttpHeaders }>((resolve) => {
      const req = client.request({ ":path": "/trailers" });
      req.on("error", () => {});
      let trailers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      req.on("trailers", (t) => {
        trailers = t;
      });
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("close", () => resolve({ body: String(Buffer.concat(chunks)), trailers }));
    });
    expect(down.body).toBe("abc");
    expect([down.trailers["x-sum"], down.trailers["x-also"]]).toEqual(["3", "yes"]);
    expect(logs.map((l) => l.termination)).toEqual(["--", "--", "--", "PR", "--"]);
  });
});
