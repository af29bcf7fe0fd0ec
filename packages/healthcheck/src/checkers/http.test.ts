import http from "node:http";
import https from "node:https";
import type net from "node:net";
import type { TLSSocket } from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { selfSigned } from "../../../../test/fixtures/self-signed.js";
import { HealthCheckConfigError } from "../errors.js";
import type { CheckResult } from "../result.js";
import { agentCheck } from "./agent.js";
import { httpCheck, parseStatus } from "./http.js";
import { tcpCheck } from "./tcp.js";

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers) (s as http.Server).closeAllConnections?.();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(server: http.Server | https.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as net.AddressInfo).port;
}

// generous by default: a check that should pass must not fail because a loaded machine was slow (a race with the clock)
const run = (c: ReturnType<typeof httpCheck>, timeout = 3000): Promise<CheckResult> =>
  c({ signal: AbortSignal.timeout(timeout), timeout });

describe("httpCheck on loopback", () => {
  it("sends method, path, Host and headers; 2xx/3xx is up by default", async () => {
    let seen: http.IncomingMessage | undefined;
    const port = await serve(
      http.createServer((req, res) => {
        seen = req;
        res.end("healthy");
      }),
    );
    const r = await run(
      httpCheck({
        host: "127.0.0.1",
        port,
        method: "HEAD",
        path: "/healthz?full=1",
        headers: { Host: "app.example", "x-check": "lbkit" },
      }),
    );
    expect(r).toMatchObject({ status: "up", code: "L7OK", reason: "HTTP status 200" });
    expect(seen?.method).toBe("HEAD");
    expect(seen?.url).toBe("/healthz?full=1");
    expect(seen?.headers.host).toBe("app.example");
    expect(seen?.headers["x-check"]).toBe("lbkit");
  });

  it("expect status list/range and body string/regex", async () => {
    const port = await serve(
      http.createServer((req, res) => {
        if (req.url === "/500") {
          res.statusCode = 500;
          return res.end("database unreachable");
        }
        if (req.url === "/204") {
          res.statusCode = 204;
          return res.end();
        }
        return res.end('{"status":"ok","role":"primary"}');
      }),
    );
    const h = (o: Partial<Parameters<typeof httpCheck>[0]>) =>
      run(httpCheck({ host: "127.0.0.1", port, ...o }));
    expect(await h({ path: "/500" })).toMatchObject({
      status: "down",
      code: "L7STS",
      reason: "HTTP status 500 not in 200-399",
      excerpt: "database unreachable",
    });
    expect(await h({ path: "/500", expect: { status: "200-299,500" } })).toMatchObject({ status: "up" });
    expect(await h({ path: "/204", expect: { status: [200] } })).toMatchObject({
      status: "down",
      code: "L7STS",
    });
    expect(await h({ path: "/204", expect: { status: [200, [204, 206]] } })).toMatchObject({ status: "up" });
    expect(await h({ expect: { body: '"role":"primary"' } })).toMatchObject({ status: "up" });
    expect(await h({ expect: { body: /"role":"replica"/ } })).toMatchObject({
      status: "down",
      code: "L7RSP",
      reason: 'HTTP body does not match /"role":"replica"/',
    });
  });

  it("hang → L7TOUT, reset → SOCKERR, closed port → L4CON", async () => {
    const port = await serve(
      http.createServer((req, res) => {
        if (req.url === "/reset") return req.socket.resetAndDestroy();
        if (req.url === "/hang") return; // never answers
        return res.end();
      }),
    );
    expect(await run(httpCheck({ host: "127.0.0.1", port, path: "/hang" }), 200)).toMatchObject({
      status: "down",
      code: "L7TOUT",
    });
    const reset = await run(httpCheck({ host: "127.0.0.1", port, path: "/reset" }));
    expect(reset).toMatchObject({ status: "down", code: "SOCKERR" });
    expect(reset.reason).toContain("ECONNRESET");
    const closed = await serve(http.createServer());
    await new Promise((r) => servers.pop()!.close(r));
    expect(await run(httpCheck({ host: "127.0.0.1", port: closed }))).toMatchObject({
      status: "down",
      code: "L4CON",
    });
  });

  it("checks an IPv6 target ([::1]:port in the Host header)", async () => {
    let host: string | undefined;
    const srv = http.createServer((req, res) => {
      host = req.headers.host;
      res.end("v6");
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, "::1", r));
    const port = (srv.address() as net.AddressInfo).port;
    expect(await run(httpCheck({ host: "::1", port }))).toMatchObject({ status: "up", excerpt: "v6" });
    expect(host).toBe(`[::1]:${port}`);
  });

  it("rejects unknown expects at construction", () => {
    expect(() => parseStatus("2xx")).toThrow(HealthCheckConfigError);
    expect(() => httpCheck({ host: "h", expect: { status: 700 } })).toThrow(
      /healthcheck: expect\.status 700 is not a known expect/,
    );
    expect(() => httpCheck({ host: "h", expect: { body: 5 as unknown as string } })).toThrow(
      /expect\.body 5/,
    );
    expect(() => httpCheck({ host: "h", path: "health" })).toThrow(
      'healthcheck: path "health" must start with /',
    );
    expect(parseStatus("200-299, 304")).toEqual([
      [200, 299],
      [304, 304],
    ]);
  });

  it("refuses a URL where a host is expected, naming the options that take its parts", () => {
    let err: unknown;
    try {
      httpCheck({ host: "http://127.0.0.1:8080/health" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HealthCheckConfigError);
    expect(err).toMatchObject({
      code: "ERR_CONFIG",
      option: "host",
      value: "http://127.0.0.1:8080/health",
      message:
        'healthcheck: host "http://127.0.0.1:8080/health" is a URL, not a host: give only the host name or IP address here (e.g. "127.0.0.1"), the port in `port` and the path in `path`',
    });
    expect(() => httpCheck({ host: "127.0.0.1/health" })).toThrow(/the path in `path`/);
    expect(() => tcpCheck({ host: "tcp://db:5432", port: 5432 })).toThrow(
      /host "tcp:\/\/db:5432" is a URL, not a host: .* and the port in `port`$/,
    );
    expect(() => agentCheck({ host: "http://a", port: 9999 })).toThrow(/is a URL, not a host/);
    expect(httpCheck({ host: "::1", port: 8080 })).toBeTypeOf("function");
  });
});

describe("httpCheck over HTTPS with SNI (self-signed cert made at test time)", () => {
  let cert = "";
  let key = "";
  beforeAll(() => {
    ({ cert, key } = selfSigned("health.test"));
  });

  it("sends SNI from the Host header and verifies the certificate against the given CA", async () => {
    let sni: string | false | null | undefined;
    const port = await serve(
      https.createServer({ cert, key }, (req, res) => {
        sni = (req.socket as TLSSocket).servername;
        res.end("tls ok");
      }),
    );
    const r = await run(
      httpCheck({ host: "127.0.0.1", port, https: true, hostHeader: "health.test", ca: cert }),
    );
    expect(r).toMatchObject({ status: "up", code: "L7OK", excerpt: "tls ok" });
    expect(sni).toBe("health.test");
    // a name the certificate does not cover fails verification: L6RSP
    const wrong = await run(
      httpCheck({ host: "127.0.0.1", port, https: true, servername: "other.test", ca: cert }),
    );
    expect(wrong).toMatchObject({ status: "down", code: "L6RSP" });
    expect(wrong.reason).toContain("SNI other.test");
    // without the CA the self-signed cert is refused unless verification is off
    expect(
      await run(httpCheck({ host: "127.0.0.1", port, https: true, hostHeader: "health.test" })),
    ).toMatchObject({
      status: "down",
    });
    expect(
      await run(
        httpCheck({ host: "127.0.0.1", port, https: true, servername: "x.test", rejectUnauthorized: false }),
      ),
    ).toMatchObject({ status: "up" });
    expect(sni).toBe("x.test");
  });

  it("an IP target without SNI is verified against the certificate's IP address", async () => {
    const ipCert = selfSigned("127.0.0.1", "IP:127.0.0.1");
    let sni: string | false | null | undefined = "unset";
    const port = await serve(
      https.createServer(ipCert, (req, res) => {
        sni = (req.socket as TLSSocket).servername;
        res.end("ip ok");
      }),
    );
    expect(await run(httpCheck({ host: "127.0.0.1", port, https: true, ca: ipCert.cert }))).toMatchObject({
      status: "up",
      excerpt: "ip ok",
    });
    expect(sni).toBe(false); // no SNI for an IP address
    // the DNS-only certificate does not cover 127.0.0.1
    const dnsPort = await serve(https.createServer({ cert, key }, (_req, res) => res.end()));
    expect(await run(httpCheck({ host: "127.0.0.1", port: dnsPort, https: true, ca: cert }))).toMatchObject({
      status: "down",
      code: "L6RSP",
    });
  });
});
