// HTTP/2 on a TLS listener (ALPN h2) proxied to HTTP/1.1 origins, with node:http2 clients: routing, bodies both
// ways (content-length, chunked without one, de-chunked responses), and the downgrade's strictness.
import http2 from "node:http2";
import type net from "node:net";
import { ReverseProxy, type TransactionLog } from "@lbkit/proxy";
import { describe, expect, it } from "vitest";
import { testCa } from "./proxy/certs.js";
import { cleanups, origins, server } from "./proxy/l7-setup.js";

const ca = testCa();
const cert = ca.leaf("h2.test");

async function h2Proxy(backendExtra: object = {}, serverExtra: object = {}) {
  const [a, b] = await origins("a", "b");
  const p = new ReverseProxy({
    frontends: [
      {
        id: "fe",
        bind: "127.0.0.1:0",
        defaultBackend: "a",
        forwardFor: true,
        rules: [{ pathPrefix: "/b/", useBackend: "b" }],
        tls: { certificates: [cert], alpn: ["h2", "http/1.1"] },
      },
    ],
    backends: [
      { id: "a", servers: [server(a!, serverExtra)], ...backendExtra },
      { id: "b", servers: [server(b!)] },
    ],
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
    const { client, logs } = await h2Proxy({ timeouts: { queue: 200 } }, { maxconn: 1 });
    const [x, y] = await Promise.all([
      send(client, { ":path": "/slow?ms=100" }),
      send(client, { ":path": "/slow?ms=100" }),
    ]);
    expect([x.status, y.status]).toEqual([200, 200]);
    const [s1, s2] = await Promise.all([
      send(client, { ":path": "/slow?ms=600" }),
      send(client, { ":path": "/slow?ms=600" }),
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
