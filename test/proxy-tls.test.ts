// TLS on loopback: termination with SNI → certificate, ALPN, modern defaults, certificate reload without
// dropping connections; TLS to servers with verification and SNI; health checks over TLS.
import https from "node:https";
import type net from "node:net";
import tls from "node:tls";
import { ReverseProxy } from "@lbkit/proxy";
import { describe, expect, it } from "vitest";
import { testCa } from "./proxy/certs.js";
import { until } from "./proxy/helpers.js";
import { cleanups, origins, server } from "./proxy/l7-setup.js";

const ca = testCa();
const certA = ca.leaf("a.test", "*.wild.test");
const certB = ca.leaf("b.test");

async function tlsProxy(extra: object = {}) {
  const [o] = await origins("o");
  const p = new ReverseProxy({
    frontends: [
      {
        id: "fe",
        bind: "127.0.0.1:0",
        defaultBackend: "be",
        forwardFor: { proto: true },
        tls: { certificates: [certA, certB], ...extra },
      },
    ],
    backends: [{ id: "be", servers: [server(o!)] }],
  });
  await p.start();
  cleanups.push(() => p.stop());
  return { p, port: (p.addresses()[0] as net.AddressInfo).port };
}

function handshake(port: number, opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca: ca.cert, ...opts }, () => resolve(s));
    s.once("error", reject);
  });
}

/** One request on an open TLS socket (keep-alive); resolves with the response text once its body is complete. */
function exchange(s: tls.TLSSocket, host: string): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const onData = (d: Buffer) => {
      text += d;
      const m = /content-length: (\d+)\r\n/i.exec(text);
      const end = text.indexOf("\r\n\r\n");
      if (m && end >= 0 && text.length >= end + 4 + Number(m[1])) {
        s.off("data", onData);
        resolve(text);
      }
    };
    s.on("data", onData);
    s.write(`GET / HTTP/1.1\r\nhost: ${host}\r\n\r\n`);
  });
}

const cn = (s: tls.TLSSocket) => s.getPeerCertificate().subject.CN;

describe("TLS termination", () => {
  it("chooses the certificate by SNI (exact, wildcard, default), verifies against the CA, and forwards as https", async () => {
    const { port } = await tlsProxy();
    const a = await handshake(port, { servername: "a.test" });
    expect(cn(a)).toBe("a.test");
    expect(a.authorized).toBe(true);
    const text = await exchange(a, "a.test");
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).headers["x-forwarded-proto"]).toBe("https");
    a.destroy();
    const b = await handshake(port, { servername: "b.test" });
    expect(cn(b)).toBe("b.test");
    b.destroy();
    const w = await handshake(port, { servername: "x.wild.test" });
    expect(cn(w)).toBe("a.test");
    w.destroy();
    const none = await handshake(port, { servername: "", checkServerIdentity: () => undefined });
    expect(cn(none)).toBe("a.test"); // the default: the first certificate
    none.destroy();
  });

  it("negotiates ALPN http/1.1; refuses TLS 1.1 and non-forward-secret ciphers", async () => {
    const { port } = await tlsProxy();
    const s = await handshake(port, { servername: "a.test", ALPNProtocols: ["h2", "http/1.1"] });
    expect(s.alpnProtocol).toBe("http/1.1");
    expect(["TLSv1.2", "TLSv1.3"]).toContain(s.getProtocol());
    s.destroy();
    await expect(
      handshake(port, { servername: "a.test", maxVersion: "TLSv1.1", minVersion: "TLSv1" }),
    ).rejects.toThrow();
    await expect(
      handshake(port, { servername: "a.test", maxVersion: "TLSv1.2", ciphers: "AES128-GCM-SHA256" }),
    ).rejects.toThrow();
  });

  it("certificate reload: new handshakes get the new certificate, an established connection keeps working", async () => {
    const { p, port } = await tlsProxy();
    const old = await handshake(port, { servername: "a.test" });
    expect(await exchange(old, "a.test")).toMatch(/^HTTP\/1\.1 200/);
    const renewed = ca.leaf("a.test", "renewed.test");
    p.setCertificates("fe", [renewed, certB]);
    const fresh = await handshake(port, { servername: "a.test" });
    expect(fresh.getPeerCertificate().serialNumber).not.toBe(old.getPeerCertificate().serialNumber);
    expect(fresh.getPeerCertificate().subjectaltname).toContain("renewed.test");
    expect(await exchange(old, "a.test")).toMatch(/^HTTP\/1\.1 200/); // not dropped
    old.destroy();
    fresh.destroy();
    expect(() => p.setCertificates("fe", [{ cert: "junk", key: "junk" }])).toThrow(/certificates\[0\]/);
  });

  it("a client that never finishes the handshake is cut after handshakeTimeout, logged cR", async () => {
    const { p, port } = await tlsProxy({ handshakeTimeout: 150 });
    const logs: string[] = [];
    p.on("request", (l) => logs.push(l.termination));
    const { connect } = await import("./proxy/helpers.js");
    const s = await connect(port);
    s.write(Buffer.from([0x16, 0x03, 0x01]));
    await new Promise((r) => s.once("end", r)); // the helper's sockets are half-open: the proxy's FIN is 'end'
    s.destroy();
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs).toEqual(["cR"]);
  });
});

describe("TLS termination in tcp mode", () => {
  it("decrypts and relays bytes both ways, half-close included", async () => {
    const { origin } = await import("./proxy/helpers.js");
    const echo = await origin((s) => s.on("data", (d) => s.write(d)).on("end", () => s.end()));
    cleanups.push(() => echo.close());
    const p = new ReverseProxy({
      frontends: [
        { id: "fe", mode: "tcp", bind: "127.0.0.1:0", defaultBackend: "be", tls: { certificates: [certA] } },
      ],
      backends: [{ id: "be", mode: "tcp", servers: [{ id: "e", address: "127.0.0.1", port: echo.port }] }],
    });
    await p.start();
    cleanups.push(() => p.stop());
    const s = await handshake((p.addresses()[0] as net.AddressInfo).port, { servername: "a.test" });
    const got: Buffer[] = [];
    s.on("data", (d: Buffer) => got.push(d));
    const ended = new Promise((r) => s.once("end", r));
    s.write("ping ");
    s.end("pong");
    await ended;
    expect(Buffer.concat(got).toString()).toBe("ping pong");
    s.destroy();
  });
});

describe("TLS after an accepted PROXY header", () => {
  it("the header and the ClientHello in one segment: TLS completes and the carried client is forwarded", async () => {
    const [o] = await origins("o");
    const p = new ReverseProxy({
      frontends: [
        {
          id: "fe",
          bind: "127.0.0.1:0",
          defaultBackend: "be",
          acceptProxy: true,
          forwardFor: true,
          tls: { certificates: [certA] },
        },
      ],
      backends: [{ id: "be", servers: [server(o!)] }],
    });
    await p.start();
    cleanups.push(() => p.stop());
    const port = (p.addresses()[0] as net.AddressInfo).port;
    const { connect } = await import("./proxy/helpers.js");
    const raw = await connect(port);
    raw.cork(); // the header and the ClientHello leave together
    raw.write("PROXY TCP4 192.0.2.9 192.0.2.1 5555 443\r\n");
    const s = tls.connect({ socket: raw, servername: "a.test", ca: ca.cert });
    process.nextTick(() => raw.uncork());
    await new Promise<void>((r, j) => {
      s.once("secureConnect", () => r());
      s.once("error", j);
    });
    const text = await exchange(s, "a.test");
    expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).headers["x-forwarded-for"]).toBe("192.0.2.9");
    s.destroy();
  });
});

describe("TLS to servers", () => {
  async function httpsOrigin(pem: { cert: string; key: string }) {
    const srv = https.createServer({ ...pem }, (req, res) => res.end(`tls ${req.url}`));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    srv.on("secureConnection", (s) => cleanups.push(async () => void s.destroy()));
    return (srv.address() as net.AddressInfo).port;
  }

  it("verifies the server against ca with SNI; a certificate that does not verify is a 503, and its TLS check fails", async () => {
    const port = await httpsOrigin(ca.leaf("origin.test"));
    const p = new ReverseProxy({
      frontends: [{ id: "fe", bind: "127.0.0.1:0", defaultBackend: "good" }],
      backends: [
        {
          id: "good",
          // a loaded machine may be slow to answer one check: the good server must not fall for that
          healthCheck: { inter: 1000, rise: 1, fall: 3, timeout: 1000 },
          servers: [
            { id: "g", address: "127.0.0.1", port, ssl: { ca: ca.cert, sni: "origin.test" }, check: true },
          ],
        },
        {
          id: "bad",
          retries: 0,
          healthCheck: { inter: 100, rise: 1, fall: 1 },
          servers: [
            { id: "b", address: "127.0.0.1", port, ssl: { ca: ca.cert, sni: "other.test" }, check: true },
          ],
        },
      ],
    });
    const changes: string[] = [];
    p.on("change", (e) => changes.push(`${e.id}:${e.to}`));
    await p.start();
    cleanups.push(() => p.stop());
    const fport = (p.addresses()[0] as net.AddressInfo).port;
    const { request } = await import("./proxy/l7-setup.js");
    const r = await request(fport, { path: "/x" });
    expect(r.status).toBe(200);
    expect(r.body).toBe("tls /x");
    p.setRules("fe", [], "bad");
    expect((await request(fport, { path: "/x" })).status).toBe(503);
    expect(await until(() => changes.includes("b:down"))).toBe(true);
    expect(changes).not.toContain("g:down");
  });

  it("mode tcp: relays bytes over TLS to the server with SNI, no ALPN, half-close; a server that does not verify is a connect failure, redispatched", async () => {
    const pem = ca.leaf("origin.test");
    const seen: { sni: string | false; alpn: string | false | null }[] = [];
    const srv = tls.createServer({ ...pem, ALPNProtocols: ["x-other"] }, (s) => {
      seen.push({
        sni: (s as tls.TLSSocket & { servername: string | false }).servername,
        alpn: s.alpnProtocol,
      });
      s.on("error", () => {});
      const got: Buffer[] = [];
      s.on("data", (d) => got.push(d));
      s.on("end", () => s.end(`tls:${Buffer.concat(got)}`));
    });
    srv.on("tlsClientError", () => {});
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    srv.on("secureConnection", (s) => cleanups.push(async () => void s.destroy()));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const port = (srv.address() as net.AddressInfo).port;
    const p = new ReverseProxy({
      frontends: [{ id: "fe", mode: "tcp", bind: "127.0.0.1:0", defaultBackend: "be" }],
      backends: [
        {
          id: "be",
          mode: "tcp",
          balance: "first",
          retries: 1,
          redispatch: 1,
          servers: [
            // the first server's name does not match its certificate: the handshake fails, the retry goes to b
            { id: "a", address: "127.0.0.1", port, ssl: { ca: ca.cert, sni: "other.test" } },
            { id: "b", address: "127.0.0.1", port, ssl: { ca: ca.cert, sni: "origin.test" } },
          ],
        },
      ],
    });
    const logs: { server?: string; termination: string; retries: number; redispatches: number }[] = [];
    p.on("session", (l) => logs.push(l));
    await p.start();
    cleanups.push(() => p.stop());
    const fport = (p.addresses()[0] as net.AddressInfo).port;
    const { connect, readAll } = await import("./proxy/helpers.js");
    const c = await connect(fport);
    c.end("hello over tls");
    expect((await readAll(c)).toString()).toBe("tls:hello over tls");
    expect(seen).toEqual([{ sni: "origin.test", alpn: false }]);
    expect(await until(() => logs.length === 1)).toBe(true);
    expect(logs[0]).toMatchObject({ server: "b", termination: "--", retries: 1, redispatches: 1 });
  });

  it("rejects ssl with sendProxy, and bad ssl options", () => {
    const build = (mode: "http" | "tcp", extra: object) =>
      new ReverseProxy({
        frontends: [],
        backends: [
          { id: "be", mode, servers: [{ id: "s", address: "127.0.0.1", port: 1, ssl: true, ...extra }] },
        ],
      });
    expect(() => build("tcp", {})).not.toThrow();
    expect(() => build("http", { sendProxy: "v2" })).toThrow(/sendProxy/);
    expect(() => build("http", { ssl: { verify: "maybe" } })).toThrow(/ssl.verify/);
  });
});
