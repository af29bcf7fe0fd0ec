import http from "node:http";
import { ReverseProxy } from "@lbkit/proxy";
import { describe, expect, it } from "vitest";
import { connect, openFds, origin, readAll, until } from "./proxy/helpers.js";
import { l7, origins, server } from "./proxy/l7-setup.js";
import type { HttpOrigin } from "./proxy/origin-http.js";

const GiB = 1024 * 1024 * 1024;

function sampleRss(): { peak: () => number; stop: () => void } {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return { peak: () => peak, stop: () => clearInterval(t) };
}

describe("L7 under load", () => {
  it("streams a 1 GiB body up and a 1 GiB body down with bounded memory", { timeout: 180_000 }, async () => {
    const [a] = await origins("a");
    const { port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    const base = process.memoryUsage().rss;
    const rss = sampleRss();
    const t0 = performance.now();
    // up: 1 GiB with Content-Length, written with backpressure
    const counted = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/count",
          agent: false,
          headers: { "content-length": GiB },
        },
        (res) => {
          let s = "";
          res.on("data", (d) => {
            s += d;
          });
          res.on("end", () => resolve(s));
        },
      );
      req.on("error", reject);
      const chunk = Buffer.alloc(1024 * 1024, 97);
      let sent = 0;
      const pump = () => {
        while (sent < GiB) {
          sent += chunk.length;
          if (sent >= GiB) req.end(chunk);
          else if (!req.write(chunk)) return void req.once("drain", pump);
        }
      };
      pump();
    });
    expect(Number(counted)).toBe(GiB);
    const up = performance.now() - t0;
    // down: 1 GiB chunked, read as it comes
    const t1 = performance.now();
    const received = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port, path: `/big?n=${GiB}`, agent: false }, (res) => {
          let n = 0;
          res.on("data", (d: Buffer) => {
            n += d.length;
          });
          res.on("end", () => resolve(n));
        })
        .on("error", reject);
    });
    rss.stop();
    expect(received).toBe(GiB);
    const growth = rss.peak() - base;
    console.log(
      `1 GiB up ${(up / 1000).toFixed(1)} s, down ${((performance.now() - t1) / 1000).toFixed(1)} s; ` +
        `RSS peak +${(growth / 1048576).toFixed(0)} MiB (client, proxy and origin in one process)`,
    );
    // the body never sits in memory: growth stays a small fraction of the 1 GiB that went through
    expect(growth).toBeLessThan(256 * 1024 * 1024);
  });

  it("leaks no socket or fd after 10,000 connection churns", { timeout: 180_000 }, async () => {
    const [a] = await origins("a");
    const { p, port } = await l7([{ id: "be", servers: [server(a as HttpOrigin)] }]);
    // warm up (lazy module loads, the upstream pool's first connection)
    for (let i = 0; i < 20; i++) await one();
    await until(() => p.connections === 0);
    const before = openFds();
    let done = 0;
    const kinds = ["full", "abort-head", "abort-response", "keepalive-idle"];
    async function one(kind = "full"): Promise<void> {
      const c = await connect(port);
      c.on("error", () => {});
      const all = readAll(c);
      if (kind === "abort-head") {
        c.write("GET / HTTP/1.1\r\nHo");
        c.destroy();
      } else if (kind === "abort-response") {
        c.write("GET /slow?ms=5 HTTP/1.1\r\nHost: x\r\n\r\n");
        setTimeout(() => c.destroy(), 1);
      } else if (kind === "keepalive-idle") {
        c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        c.once("data", () => c.end());
      } else c.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      await all;
      c.destroy();
    }
    const workers = Array.from({ length: 20 }, async (_, w) => {
      while (done < 10_000) {
        const k = kinds[(done + w) % kinds.length];
        done++;
        await one(k);
      }
    });
    await Promise.all(workers);
    expect(await until(() => p.connections === 0, 10_000)).toBe(true);
    // what remains open is exactly the keep-alive pool: each idle upstream connection is two fds in this
    // process (the proxy's end and the origin's end)
    const idle = (a as HttpOrigin).sockets.size;
    expect(idle).toBeLessThanOrEqual(64);
    expect(await until(() => openFds() <= before + 2 * idle + 2, 10_000)).toBe(true);
    console.log(`fds before ${before}, after ${openFds()}, idle keep-alive upstream connections ${idle}`);
  });

  it("L4: leaks no socket or fd after 10,000 TCP sessions (clean ends and client resets)", {
    timeout: 180_000,
  }, async () => {
    const echo = await origin((s) => {
      s.on("data", (d) => s.write(d));
      s.on("end", () => s.end());
    });
    const p = new ReverseProxy({
      frontends: [{ id: "fe", mode: "tcp", bind: "127.0.0.1:0", defaultBackend: "be" }],
      backends: [{ id: "be", mode: "tcp", servers: [{ id: "e", address: "127.0.0.1", port: echo.port }] }],
    });
    await p.start();
    const port = (p.addresses()[0] as { port: number }).port;
    const before = openFds();
    let done = 0;
    const one = async (reset: boolean) => {
      const c = await connect(port);
      c.on("error", () => {});
      const all = readAll(c);
      if (reset) {
        c.write("x");
        c.once("data", () => c.resetAndDestroy());
      } else c.end("ping");
      await all;
      c.destroy();
    };
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (done < 10_000) await one(done++ % 2 === 0);
      }),
    );
    expect(await until(() => p.connections === 0 && echo.sockets.size === 0, 10_000)).toBe(true);
    expect(await until(() => openFds() <= before + 1, 10_000)).toBe(true);
    console.log(`L4 fds before ${before}, after ${openFds()}`);
    await p.stop();
    await echo.close();
  });
});
