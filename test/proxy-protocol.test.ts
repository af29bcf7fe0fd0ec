// PROXY protocol on loopback, both ways against HAProxy 2.6: haproxy `send-proxy`/`send-proxy-v2` → lbkit
// `acceptProxy` (L7 and L4), and lbkit `sendProxy` → haproxy `accept-proxy`. Clients bind distinct loopback
// sources (127.0.0.x) so the address carried by the header is told apart from the hop's own 127.0.0.1.
import { mkdtempSync, rmSync } from "node:fs";
import type net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReverseProxy, type TransactionLog } from "@lbkit/proxy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haproxyPrerequisite, startHaproxy } from "./healthcheck/haproxy.js";
import { connect, deadPort, origin, readAll, until } from "./proxy/helpers.js";
import { cleanups, origins } from "./proxy/l7-setup.js";
import type { HttpOrigin } from "./proxy/origin-http.js";

const { haproxy, skip } = haproxyPrerequisite("proxy-protocol");
let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lbkit-proxy-protocol-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const httpOrigins = origins;

async function start(
  p: ReverseProxy,
  kind: "request" | "session" = "request",
): Promise<{ port: number; logs: TransactionLog[] }> {
  const logs: TransactionLog[] = [];
  p.on(kind, (l) => logs.push(l));
  await p.start();
  cleanups.push(() => p.stop());
  return { port: (p.addresses()[0] as net.AddressInfo).port, logs };
}

/** What the origin echoes about a request. */
interface Echo {
  id?: string;
  headers: Record<string, string | undefined>;
}

/** One GET over a fresh connection from `source`; the origin's JSON echo (or the raw reply when not 200). */
async function get(port: number, source: string, path = "/"): Promise<{ status: number; json: Echo }> {
  const s = await connect(port, { localAddress: source });
  s.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
  const text = String(await readAll(s));
  s.end(); // the connect helper allows half-open sockets: end ours too, or an L4 session waits for it
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  return { status, json: status === 200 ? (JSON.parse(body) as Echo) : { headers: {} } };
}

async function runHaproxy(name: string, lines: string[]): Promise<void> {
  const h = await startHaproxy(haproxy, dir, name, [
    "defaults",
    "  timeout connect 2s",
    "  timeout client 5s",
    "  timeout server 5s",
    ...lines,
  ]);
  cleanups.push(() => h.stop());
}

describe.skipIf(skip)("PROXY protocol with HAProxy 2.6", () => {
  it.each(["send-proxy", "send-proxy-v2"])(
    "haproxy %s → lbkit acceptProxy (http): the carried address routes, and reaches X-Forwarded-For and the log",
    async (send) => {
      const [a, b] = await httpOrigins("a", "b");
      const { port, logs } = await start(
        new ReverseProxy({
          frontends: [
            {
              id: "fe",
              bind: "127.0.0.1:0",
              acceptProxy: true,
              forwardFor: true,
              rules: [{ src: "127.0.0.5/32", useBackend: "b" }],
              defaultBackend: "a",
            },
          ],
          backends: [
            { id: "a", servers: [{ id: "a", address: "127.0.0.1", port: (a as HttpOrigin).port }] },
            { id: "b", servers: [{ id: "b", address: "127.0.0.1", port: (b as HttpOrigin).port }] },
          ],
        }),
      );
      const hport = await deadPort();
      await runHaproxy(`send-${send}`, [
        "listen l",
        "  mode http",
        `  bind 127.0.0.1:${hport}`,
        `  server lbkit 127.0.0.1:${port} ${send}`,
      ]);
      const r5 = await get(hport, "127.0.0.5");
      expect(r5.status).toBe(200);
      expect(r5.json.id).toBe("b");
      expect(r5.json.headers["x-forwarded-for"]).toBe("127.0.0.5");
      const r6 = await get(hport, "127.0.0.6");
      expect(r6.json.id).toBe("a");
      expect(r6.json.headers["x-forwarded-for"]).toBe("127.0.0.6");
      expect(logs.map((l) => l.client)).toEqual(["127.0.0.5", "127.0.0.6"]);
    },
  );

  it("haproxy send-proxy-v2 → lbkit acceptProxy (tcp): source hashing and the session log use the carried address", async () => {
    const seen: string[] = [];
    const echo = await origin((s) => s.on("data", (d) => s.write(d)).on("end", () => s.end()));
    cleanups.push(() => echo.close());
    const { port, logs } = await start(
      new ReverseProxy({
        frontends: [{ id: "fe", mode: "tcp", bind: "127.0.0.1:0", acceptProxy: true, defaultBackend: "be" }],
        backends: [
          {
            id: "be",
            mode: "tcp",
            balance: "source",
            servers: [
              { id: "s1", address: "127.0.0.1", port: echo.port },
              { id: "s2", address: "127.0.0.1", port: echo.port },
              { id: "s3", address: "127.0.0.1", port: echo.port },
            ],
          },
        ],
      }),
      "session",
    );
    const hport = await deadPort();
    await runHaproxy("tcp-v2", [
      "listen l",
      "  mode tcp",
      `  bind 127.0.0.1:${hport}`,
      `  server lbkit 127.0.0.1:${port} send-proxy-v2`,
    ]);
    for (const src of ["127.0.0.7", "127.0.0.8", "127.0.0.7", "127.0.0.8", "127.0.0.9"]) {
      const s = await connect(hport, { localAddress: src });
      s.end("ping");
      expect(String(await readAll(s))).toBe("ping");
      seen.push(src);
    }
    expect(await until(() => logs.length === 5)).toBe(true);
    expect(logs.map((l) => l.client)).toEqual(seen);
    const serverOf = (src: string) => new Set(logs.filter((l) => l.client === src).map((l) => l.server));
    expect(serverOf("127.0.0.7").size).toBe(1);
    expect(serverOf("127.0.0.8").size).toBe(1);
    expect(logs.every((l) => l.termination === "--")).toBe(true);
  });

  it.each([
    ["tcp", "v2"],
    ["tcp", "v1"],
    ["http", "v2"],
    ["http", "v1"],
  ] as const)(
    "lbkit %s sendProxy %s → haproxy accept-proxy: haproxy forwards the client's address",
    async (mode, version) => {
      const [o] = (await httpOrigins("o")) as [HttpOrigin];
      const hport = await deadPort();
      await runHaproxy(`accept-${mode}-${version}`, [
        "frontend f",
        "  mode http",
        "  option forwardfor",
        `  bind 127.0.0.1:${hport} accept-proxy`,
        "  default_backend b",
        "backend b",
        "  mode http",
        `  server o 127.0.0.1:${o.port}`,
      ]);
      const { port } = await start(
        new ReverseProxy({
          frontends: [{ id: "fe", mode, bind: "127.0.0.1:0", defaultBackend: "be" }],
          backends: [
            { id: "be", mode, servers: [{ id: "h", address: "127.0.0.1", port: hport, sendProxy: version }] },
          ],
        }),
        mode === "tcp" ? "session" : "request",
      );
      for (const src of ["127.0.0.10", "127.0.0.11"]) {
        const r = await get(port, src);
        expect(r.status).toBe(200);
        expect(r.json.headers["x-forwarded-for"]).toBe(src);
      }
    },
  );
});

describe("acceptProxy strictness", () => {
  async function acceptor(acceptProxy: unknown, mode: "http" | "tcp" = "http") {
    const [o] = (await httpOrigins("o")) as [HttpOrigin];
    return start(
      new ReverseProxy({
        frontends: [
          {
            id: "fe",
            mode,
            bind: "127.0.0.1:0",
            acceptProxy: acceptProxy as true,
            defaultBackend: "be",
            forwardFor: mode === "http",
          },
        ],
        backends: [{ id: "be", mode, servers: [{ id: "o", address: "127.0.0.1", port: o.port }] }],
      }),
      mode === "tcp" ? "session" : "request",
    );
  }

  it.each(["http", "tcp"] as const)(
    "%s: a request without a header is closed unanswered, logged PR",
    async (mode) => {
      const { port, logs } = await acceptor(true, mode);
      const s = await connect(port);
      s.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n");
      expect((await readAll(s)).length).toBe(0);
      expect(await until(() => logs.length === 1)).toBe(true);
      expect(logs[0]?.termination).toBe("PR");
    },
  );

  it("a malformed v1 header is closed, logged PR; a header that never completes times out, logged cR", async () => {
    const { port, logs } = await acceptor({ timeout: 150 });
    const s = await connect(port);
    s.write("PROXY TCP4 127.0.0.1 127.0.0.1 01 80\r\nGET / HTTP/1.1\r\nhost: x\r\n\r\n");
    expect((await readAll(s)).length).toBe(0);
    const t = await connect(port);
    t.write("PROXY TCP4 127.0.0.1");
    expect((await readAll(t)).length).toBe(0);
    expect(await until(() => logs.length === 2)).toBe(true);
    expect(logs.map((l) => l.termination).sort()).toEqual(["PR", "cR"]);
  });

  it("a header and the request in one segment: the request after it is served with the carried address", async () => {
    const { port, logs } = await acceptor(true);
    const s = await connect(port);
    s.write(
      "PROXY TCP6 2001:db8::7 2001:db8::1 40000 80\r\nGET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    const text = String(await readAll(s));
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).headers["x-forwarded-for"]).toBe(
      "2001:db8::7",
    );
    expect(logs[0]?.client).toBe("2001:db8::7");
  });

  it("trusted networks: a client outside them sends no header and is served with its own address", async () => {
    const { port, logs } = await acceptor({ trusted: ["10.0.0.0/8"] });
    const r = await get(port, "127.0.0.12");
    expect(r.status).toBe(200);
    expect(r.json.headers["x-forwarded-for"]).toBe("127.0.0.12");
    expect(logs[0]?.client).toBe("127.0.0.12");
  });

  it("rejects bad options at construction", () => {
    const build = (acceptProxy: unknown, sendProxy?: unknown) =>
      new ReverseProxy({
        frontends: [
          { id: "fe", bind: "127.0.0.1:0", acceptProxy: acceptProxy as true, defaultBackend: "be" },
        ],
        backends: [
          { id: "be", servers: [{ id: "s", address: "127.0.0.1", port: 1, sendProxy: sendProxy as "v1" }] },
        ],
      });
    expect(() => build({ trusted: ["10.0.0.0/33"] })).toThrow(/acceptProxy.trusted/);
    expect(() => build({ timeout: 0 })).toThrow(/acceptProxy.timeout/);
    expect(() => build({ trust: [] })).toThrow(/acceptProxy.trust/);
    expect(() => build(true, "v3")).toThrow(/sendProxy/);
  });
});
