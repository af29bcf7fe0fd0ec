// The L4 TCP proxy suite (see l4Suite).
import { createHash } from "node:crypto";
import type net from "node:net";
import { type BackendOptions, ReverseProxy, type TransactionLog } from "@lbkit/proxy";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { connect, deadPort, type Origin, once, origin, readAll, until } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];

async function tcpProxy(
  backend: Omit<BackendOptions, "id" | "mode">,
  front: { client?: number; clientFin?: number } = {},
) {
  const p = new ReverseProxy({
    frontends: [{ id: "fe", mode: "tcp", bind: "127.0.0.1:0", defaultBackend: "be", timeouts: front }],
    backends: [{ id: "be", mode: "tcp", ...backend }],
  });
  const logs: TransactionLog[] = [];
  p.on("session", (l) => logs.push(l));
  await p.start();
  cleanups.push(() => p.stop());
  return { p, port: (p.addresses()[0] as net.AddressInfo).port, logs };
}

async function echo(): Promise<Origin> {
  const o = await origin((s) => {
    s.on("data", (d) => s.write(d));
    s.on("end", () => s.end());
  });
  cleanups.push(() => o.close());
  return o;
}

/**
 * Sets `LBKIT_PROXY_RELAY` for a test file (read once, on the proxy's first session; the file's modules are its
 * own: vitest isolates files) and puts it back after.
 */
export function relayEnv(value: string): void {
  const before = process.env.LBKIT_PROXY_RELAY;
  process.env.LBKIT_PROXY_RELAY = value;
  afterAll(() => {
    if (before === undefined) delete process.env.LBKIT_PROXY_RELAY;
    else process.env.LBKIT_PROXY_RELAY = before;
  });
}

/**
 * The L4 proxy's behaviour, run by three files: with the native relay taking conversations over (proxy-l4.test.ts),
 * taking every session at connect (proxy-l4-eager.test.ts) and with JavaScript moving every byte
 * (proxy-l4-js.test.ts).
 */
export function l4Suite(relay: string): void {
  describe(`L4 TCP proxy (${relay} relay)`, () => {
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    it("a conversation, then each side's FIN in turn; then a conversation cut by the server (SD)", async () => {
      const o = await echo();
      const { port, logs } = await tcpProxy({ servers: [{ id: "a", address: "127.0.0.1", port: o.port }] });
      const talk = async (c: net.Socket) => {
        // request, response, request…: the session is a conversation (the default relay takes it over here)
        for (const word of ["one", "two", "three"]) {
          const answer = new Promise<string>((r) => c.once("data", (d) => r(String(d))));
          c.write(word);
          expect(await answer).toBe(word);
        }
      };
      const c = await connect(port);
      await talk(c);
      const rest = readAll(c);
      c.end("bye");
      expect(String(await rest)).toBe("bye"); // the echo's FIN followed the client's
      expect(await until(() => logs.length === 1)).toBe(true);
      expect(logs[0]).toMatchObject({ termination: "--", bytesIn: 14, bytesOut: 14 });
      const c2 = await connect(port);
      c2.on("error", () => {});
      await talk(c2);
      for (const s of o.sockets) s.resetAndDestroy();
      await new Promise((r) => c2.once("end", r)); // the proxy closes the client's connection
      expect(await until(() => logs.length === 2)).toBe(true);
      expect(logs[1]).toMatchObject({ termination: "SD", bytesIn: 11, bytesOut: 11 });
    });

    it("traffic either way keeps a session past timeout client; a quiet period then ends it (cD)", async () => {
      const o = await echo();
      const { port, logs } = await tcpProxy(
        { servers: [{ id: "a", address: "127.0.0.1", port: o.port }] },
        // 10x the write period: an event-loop stall (100-300 ms on a loaded CI VM) is itself a quiet period, and
        // after it the timer phase runs the timeout before the poll phase relays the pending byte; 500 ms
        // outlasts a 50 ms gap plus any such stall, so only the real quiet period after the loop ends it
        { client: 500 },
      );
      const c = await connect(port);
      let echoed = 0;
      c.on("data", (d) => (echoed += d.length));
      const start = Date.now();
      let sent = 0;
      // a byte every 50 ms for 1000 ms: twice the timeout, never quiet for it
      while (Date.now() - start < 1000) {
        c.write("x");
        sent++;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(logs).toEqual([]);
      expect(await until(() => echoed === sent)).toBe(true);
      expect(await until(() => logs.length === 1, 3000)).toBe(true);
      expect(logs[0]).toMatchObject({ termination: "cD", bytesIn: sent, bytesOut: sent });
      c.destroy();
    });
    it("relays both ways and propagates the client's half-close (server answers after the client's FIN)", async () => {
      const o = await origin((s) => {
        const got: Buffer[] = [];
        s.on("data", (d) => got.push(d));
        s.on("end", () => s.end(`got:${Buffer.concat(got)}`));
      });
      cleanups.push(() => o.close());
      const { port, logs } = await tcpProxy({ servers: [{ id: "a", address: "127.0.0.1", port: o.port }] });
      const c = await connect(port);
      const all = readAll(c);
      c.end("hello");
      expect(String(await all)).toBe("got:hello");
      expect(await until(() => logs.length === 1)).toBe(true);
      expect(logs[0]).toMatchObject({ termination: "--", server: "a", bytesIn: 5, bytesOut: 9 });
    });

    it("propagates the server's half-close while the client keeps sending", async () => {
      const o = await origin((s) => {
        s.end("bye"); // server closes its side first, still reads
        const got: Buffer[] = [];
        s.on("data", (d) => got.push(d));
        s.on("end", () => received.push(String(Buffer.concat(got))));
      });
      const received: string[] = [];
      cleanups.push(() => o.close());
      const { port, logs } = await tcpProxy({ servers: [{ id: "a", address: "127.0.0.1", port: o.port }] });
      const c = await connect(port);
      const all = readAll(c);
      await once(c, "end");
      c.end("still talking");
      expect(String(await all)).toBe("bye");
      expect(await until(() => received.length === 1)).toBe(true);
      expect(received[0]).toBe("still talking");
      expect(await until(() => logs.length === 1)).toBe(true);
      expect(logs[0]?.termination).toBe("--");
    });

    it("retries a refused connection on another server (redispatch)", async () => {
      const o = await echo();
      const dead = await deadPort();
      const { port, logs } = await tcpProxy({
        balance: "first",
        retries: 2,
        redispatch: 1,
        servers: [
          { id: "dead", address: "127.0.0.1", port: dead },
          { id: "live", address: "127.0.0.1", port: o.port },
        ],
      });
      const c = await connect(port);
      const all = readAll(c);
      c.end("ping");
      expect(String(await all)).toBe("ping");
      expect(await until(() => logs.length === 1)).toBe(true);
      expect(logs[0]).toMatchObject({ server: "live", retries: 1, termination: "--" });
    });

    it("gives up after retries with SC when every server refuses", async () => {
      const dead = await deadPort();
      const { port, logs } = await tcpProxy({
        retries: 1,
        servers: [{ id: "dead", address: "127.0.0.1", port: dead }],
      });
      const c = await connect(port);
      await readAll(c);
      expect(await until(() => logs.length === 1)).toBe(true);
      expect(logs[0]).toMatchObject({ termination: "SC", retries: 1 });
    });

    it("sticks a client address to one server with balance source", async () => {
      const a = await echo();
      const b = await echo();
      const { port, logs } = await tcpProxy({
        balance: "source",
        servers: [
          { id: "a", address: "127.0.0.1", port: a.port },
          { id: "b", address: "127.0.0.1", port: b.port },
        ],
      });
      for (let i = 0; i < 6; i++) {
        const c = await connect(port);
        const all = readAll(c);
        c.end("x");
        await all;
      }
      expect(await until(() => logs.length === 6)).toBe(true);
      expect(new Set(logs.map((l) => l.server)).size).toBe(1);
    });

    it("queues at maxconn, serves the queue in order, refuses beyond maxqueue and expires after timeout queue (sQ)", async () => {
      const o = await echo();
      const { p, port, logs } = await tcpProxy({
        maxqueue: 1,
        timeouts: { queue: 300 },
        servers: [{ id: "a", address: "127.0.0.1", port: o.port, maxconn: 1 }],
      });
      const first = await connect(port);
      await until(() => o.accepted === 1);
      const second = await connect(port); // queued
      const secondAll = readAll(second);
      second.write("two");
      expect(await until(() => p.backend("be").queue.length === 1)).toBe(true);
      const third = await connect(port); // queue full → closed at once
      await readAll(third);
      expect(await until(() => logs.some((l) => l.termination === "sQ"))).toBe(true);
      // the second expires in the queue after 300 ms
      await secondAll;
      expect(await until(() => logs.some((l) => l.termination === "sQ"))).toBe(true);
      // a queued client is served once the first leaves
      const fourth = await connect(port);
      const fourthAll = readAll(fourth);
      fourth.end("four");
      expect(await until(() => p.backend("be").queue.length === 1)).toBe(true);
      first.end();
      expect(String(await fourthAll)).toBe("four");
    });

    it("times out an idle client (timeout client → cD) and tears down the server side", async () => {
      const o = await echo();
      const { port, logs } = await tcpProxy(
        { servers: [{ id: "a", address: "127.0.0.1", port: o.port }] },
        { client: 200 },
      );
      const c = await connect(port);
      c.write("x");
      await readAll(c);
      expect(await until(() => logs.length === 1)).toBe(true);
      expect(logs[0]?.termination).toBe("cD");
      expect(await until(() => o.sockets.size === 0)).toBe(true);
    });

    it("a client abort tears down the server connection (CD)", async () => {
      const o = await echo();
      const { port, logs } = await tcpProxy({ servers: [{ id: "a", address: "127.0.0.1", port: o.port }] });
      const c = await connect(port);
      c.write("x");
      await once(c, "data");
      c.resetAndDestroy();
      expect(await until(() => logs.length === 1)).toBe(true);
      expect(logs[0]?.termination).toBe("CD");
      expect(await until(() => o.sockets.size === 0)).toBe(true);
    });

    it("a server abort tears down the client (SD)", async () => {
      const o = await origin((s) => s.on("data", () => s.resetAndDestroy()));
      cleanups.push(() => o.close());
      const { port, logs } = await tcpProxy({ servers: [{ id: "a", address: "127.0.0.1", port: o.port }] });
      const c = await connect(port);
      c.on("error", () => {});
      c.write("x");
      await readAll(c);
      expect(await until(() => logs.length === 1)).toBe(true);
      expect(logs[0]?.termination).toBe("SD");
    });

    it("applies backpressure: a client that does not read stalls the server instead of growing buffers", async () => {
      let written = 0;
      let stalled: () => void = () => {};
      const stall = new Promise<void>((r) => {
        stalled = r;
      });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const o = await origin((s) => {
        const pump = () => {
          while (written < 256 * 1024 * 1024) {
            written += chunk.length;
            if (!s.write(chunk)) {
              const before = written;
              setTimeout(() => {
                if (written === before) stalled();
              }, 300);
              s.once("drain", pump);
              return;
            }
          }
        };
        pump();
      });
      cleanups.push(() => o.close());
      const { port } = await tcpProxy({ servers: [{ id: "a", address: "127.0.0.1", port: o.port }] });
      const c = await connect(port);
      c.pause();
      await stall;
      // kernel buffers on both hops plus at most a socket's high-water mark in the proxy
      expect(written).toBeLessThan(32 * 1024 * 1024);
      const rss = process.memoryUsage().rss;
      expect(rss).toBeLessThan(1024 * 1024 * 1024);
      c.destroy();
    });

    it("delivers every byte intact to fast and stalling clients at once (the server side's reused read buffer)", async () => {
      // each session gets its own pseudo-random stream, so a buffer reused too early or shared across sessions
      // shows as a wrong digest; the stalling clients force writes that do not complete synchronously
      const SIZE = 24 * 1024 * 1024;
      const stream = (seed: number) => {
        const b = Buffer.allocUnsafe(SIZE);
        let x = seed;
        for (let i = 0; i < SIZE; i += 4) {
          x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
          b.writeUInt32LE(x, i);
        }
        return b;
      };
      const digest = (b: Buffer) => createHash("sha256").update(b).digest("hex");
      const o = await origin((s) => {
        s.once("data", (d) => {
          const data = stream(Number(String(d)));
          // odd-sized writes, so reads do not line up with the proxy's buffer sizes
          let off = 0;
          const pump = () => {
            while (off < data.length) {
              const end = Math.min(data.length, off + 10_007 + (off % 50_000));
              const ok = s.write(data.subarray(off, end));
              off = end;
              if (!ok) return void s.once("drain", pump);
            }
            s.end();
          };
          pump();
        });
      });
      cleanups.push(() => o.close());
      const { port } = await tcpProxy({ servers: [{ id: "a", address: "127.0.0.1", port: o.port }] });
      const session = async (seed: number, stall: boolean) => {
        const c = await connect(port);
        const got: Buffer[] = [];
        let bytes = 0;
        let next = 0;
        c.on("data", (d) => {
          got.push(d);
          bytes += d.length;
          if (stall && bytes >= next) {
            next = bytes + 2 * 1024 * 1024;
            c.pause();
            setTimeout(() => c.resume(), 25);
          }
        });
        const ended = once(c, "end");
        c.write(String(seed));
        await ended;
        c.destroy();
        return digest(Buffer.concat(got));
      };
      const seeds = [11, 22, 33, 44];
      const got = await Promise.all(seeds.map((seed, i) => session(seed, i % 2 === 1)));
      expect(got).toEqual(seeds.map((seed) => digest(stream(seed))));
    });

    it("timeout client-fin: a client that never closes after the server's FIN is cut (cD)", async () => {
      const o = await origin((s) => s.end("bye"));
      cleanups.push(() => o.close());
      const { port, logs } = await tcpProxy(
        { servers: [{ id: "a", address: "127.0.0.1", port: o.port }] },
        { clientFin: 200 },
      );
      const c = await connect(port);
      const all = readAll(c);
      expect(String(await all)).toBe("bye");
      // the client keeps its side open and silent
      expect(await until(() => logs.length === 1, 3000)).toBe(true);
      expect(logs[0]?.termination).toBe("cD");
      c.destroy();
    });

    it("an exception in a routing predicate cuts that connection, is reported, and the proxy keeps serving", async () => {
      const o = await echo();
      let calls = 0;
      const p = new ReverseProxy({
        frontends: [
          {
            id: "fe",
            mode: "tcp",
            bind: "127.0.0.1:0",
            defaultBackend: "be",
            rules: [
              {
                useBackend: "be",
                predicate: () => {
                  if (calls++ === 0) throw new Error("boom");
                  return false;
                },
              },
            ],
          },
        ],
        backends: [{ id: "be", mode: "tcp", servers: [{ id: "a", address: "127.0.0.1", port: o.port }] }],
      });
      const errors: Error[] = [];
      p.on("error", (e) => errors.push(e));
      await p.start();
      cleanups.push(() => p.stop());
      const port = (p.addresses()[0] as net.AddressInfo).port;
      const c1 = await connect(port);
      await readAll(c1);
      expect(errors.map((e) => (e as Error & { code: string }).code)).toEqual(["ERR_INTERNAL"]);
      const c2 = await connect(port);
      const all = readAll(c2);
      c2.end("still up");
      expect(String(await all)).toBe("still up");
    });
  });
}
