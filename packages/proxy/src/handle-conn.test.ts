import net from "node:net";
import { systemTime, tcpWrap, UV_EOF } from "@lbkit/core";
import { FakeTime } from "@lbkit/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { batch } from "./batch-reads.js";
import { type Conn, type ConnHandler, IdleTimeout } from "./conn.js";
import { Deadlines } from "./deadlines.js";
import { dial } from "./dial.js";
import { type ConnEnv, HandleConn, leanAccept } from "./handle-conn.js";
import { TurnClock } from "./turn-clock.js";

describe("IdleTimeout", () => {
  it("fires after a quiet period only: activity moves it without re-arming, and it fires again after another", () => {
    const time = new FakeTime();
    const fired: number[] = [];
    const t = new IdleTimeout(
      new Deadlines(time, time),
      () => time.now(),
      () => fired.push(time.now()),
    );
    t.set(100);
    time.advanceSync(60);
    t.last = time.now(); // activity at 60
    time.advanceSync(60);
    expect(fired).toEqual([]); // 120: quiet for 60 only
    time.advanceSync(40);
    expect(fired).toEqual([160]);
    time.advanceSync(100);
    expect(fired).toEqual([160, 260]);
    t.set(100); // unchanged: nothing moves
    t.clear();
    time.advanceSync(1000);
    expect(fired).toEqual([160, 260]);
    expect(time.pending).toBe(0);
  });
});

describe("HandleConn inactivity (fake time, a stand-in handle)", () => {
  const fakeHandle = () => ({
    writeQueueSize: 0,
    closed: 0,
    setNoDelay: () => 0,
    useUserBuffer: () => {},
    close(this: { closed: number }) {
      this.closed++;
    },
  });
  const setup = () => {
    const time = new FakeTime();
    const fakeEnv = {
      b: {} as ConnEnv["b"],
      clock: new TurnClock(time),
      deadlines: new Deadlines(time, time),
    };
    const h = fakeHandle();
    const c = new HandleConn(fakeEnv, h as unknown as ConstructorParameters<typeof HandleConn>[1], false);
    const events: string[] = [];
    c.handler = { ...new Recorder(), connTimeout: () => events.push("timeout") } as unknown as ConnHandler;
    return { time, h, c, events };
  };

  it("counts a queued write that makes progress as activity, as net.Socket does", () => {
    const { time, h, c, events } = setup();
    c.idle(100);
    h.writeQueueSize = 50_000; // a slow reader drains a big write
    time.advanceSync(100);
    expect(events).toEqual([]);
    h.writeQueueSize = 30_000;
    time.advanceSync(100);
    expect(events).toEqual([]);
    time.advanceSync(100); // no progress for a whole period
    expect(events).toEqual(["timeout"]);
  });

  it("closes without a shutdown when the peer's FIN is in and nothing waits to be written", () => {
    const { h, c } = setup();
    const rec = new Recorder();
    c.handler = rec;
    c.read(UV_EOF);
    expect(c.readEnded).toBe(true);
    c.end(); // the stand-in bindings have no ShutdownWrap: asking for one would throw
    expect(h.closed).toBe(1);
    expect(c.destroyed).toBe(true);
    expect(rec.events).toEqual(["end"]);
    expect(rec.failures).toEqual([]);
  });

  it("arms nothing once destroyed, even when asked to", () => {
    const { time, c, events } = setup();
    c.idle(100);
    c.destroy();
    c.idle(50);
    time.advanceSync(1000);
    expect(events).toEqual([]);
    expect(time.pending).toBe(0);
  });
});

const probe = tcpWrap();
// the lean kind needs Node's tcp_wrap binding; this Node has it (CI runs Node 20), so its absence is a failure
const env: ConnEnv = {
  b: probe.bindings as NonNullable<typeof probe.bindings>,
  clock: new TurnClock(systemTime),
  deadlines: new Deadlines(systemTime, systemTime),
};
// the addon is built in this checkout (setup.sh, CI): its absence is a failure
const batched = batch();
const benv: ConnEnv = { ...env, batch: batched };

/** A handler that records what the connection reports. */
class Recorder implements ConnHandler {
  data: Buffer[] = [];
  events: string[] = [];
  failures: unknown[] = [];
  onData: ((c: Conn, d: Buffer) => void) | undefined;
  private waiters: [string, () => void][] = [];
  connData(c: Conn, d: Buffer): void {
    this.data.push(d);
    this.onData?.(c, d);
  }
  connEnd(): void {
    this.note("end");
  }
  connClose(): void {
    this.note("close");
  }
  connDrain(): void {
    this.note("drain");
  }
  connTimeout(): void {
    this.note("timeout");
  }
  connConnect(): void {
    this.note("connect");
  }
  connFailure(_c: Conn, e: unknown): void {
    this.failures.push(e);
    this.note("failure");
  }
  private note(e: string): void {
    this.events.push(e);
    for (const w of this.waiters.filter(([n]) => n === e)) w[1]();
    this.waiters = this.waiters.filter(([n]) => n !== e);
  }
  when(e: string): Promise<void> {
    if (this.events.includes(e)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push([e, resolve]));
  }
  get bytes(): Buffer {
    return Buffer.concat(this.data);
  }
}

describe("HandleConn", () => {
  it("has the bindings on this Node.js, and the batch addon", () => {
    expect(probe.reason).toMatch(/tcp_wrap/);
    expect(probe.bindings).toBeDefined();
    expect(batched).toBeDefined();
  });
});

describe.each([
  ["libuv's handle", env],
  ["batched reads (batch-reads.ts)", benv],
])("HandleConn with %s", (mode, env) => {
  const isBatched = env.batch !== undefined;

  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });

  /** A listening server whose accepted connections are lean; resolves with its port. */
  async function leanServer(onConn: (c: HandleConn) => void): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    expect(leanAccept(server, env, onConn)).toBe(true);
    closers.push(() => server.close());
    return (server.address() as net.AddressInfo).port;
  }

  function client(port: number): Promise<net.Socket> {
    return new Promise((resolve) => {
      const c = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => resolve(c));
      closers.push(() => c.destroy());
    });
  }

  /** A lean connection reading into a Recorder, and its peer (a net.Socket). */
  async function pair(): Promise<{ rec: Recorder; c: HandleConn; peer: net.Socket; port: number }> {
    const rec = new Recorder();
    let conn: HandleConn | undefined;
    const port = await leanServer((c) => {
      conn = c;
      c.handler = rec;
      c.resume();
    });
    const peer = await client(port);
    while (conn === undefined) await new Promise((r) => setTimeout(r, 5));
    return { rec, c: conn, peer, port };
  }

  it("accepts, reads every byte in order (small and 1 MiB), answers, knows its peer, and half-closes both ways", async () => {
    const { rec, c, peer, port } = await pair();
    const payload = Buffer.concat([Buffer.from("hello "), Buffer.alloc(1 << 20, 0x61), Buffer.from(" end")]);
    peer.end(payload);
    await rec.when("end");
    expect(rec.bytes.equals(payload)).toBe(true);
    expect(c.remoteAddress).toBe("127.0.0.1");
    expect(c.remotePort).toBe(peer.localPort);
    expect(c.localPort).toBe(port);
    expect(c.readEnded).toBe(true);
    const back: Buffer[] = [];
    peer.on("data", (d: Buffer) => back.push(d));
    const peerEnded = new Promise((r) => peer.on("end", r));
    expect(c.write2(Buffer.from("head|"), Buffer.from("body"))).toBe(true);
    c.end(); // both directions ended: the connection closes by itself
    await peerEnded;
    await rec.when("close");
    expect(Buffer.concat(back).toString()).toBe("head|body");
    expect(c.destroyed).toBe(true);
    expect(rec.failures).toEqual([]);
  });

  it("keeps a chunk the handler holds intact, and reuses the read buffer only when told (recycle)", async () => {
    // distinct bytes per word, so that an overwritten chunk would show
    const payload = Buffer.alloc(4 << 20);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
    /** Sends the payload to a lean connection; the big reads' distinct backing buffers and what arrived. */
    const run = async (recycle: boolean) => {
      const rec = new Recorder();
      const arrays = new Set<ArrayBufferLike>();
      const copies: Buffer[] = [];
      rec.onData = (c, d) => {
        if (d.length >= 16_384) arrays.add(d.buffer);
        if (recycle) {
          copies.push(Buffer.from(d)); // a copy: the handler keeps nothing of the read buffer
          c.recycle = true;
        }
      };
      const port = await leanServer((c) => {
        c.handler = rec;
        c.resume();
      });
      const peer = await client(port);
      peer.end(payload);
      await rec.when("end");
      return { arrays: arrays.size, got: recycle ? Buffer.concat(copies) : rec.bytes };
    };
    const kept = await run(false);
    expect(kept.got.equals(payload)).toBe(true); // every kept chunk still holds its own bytes
    expect(kept.arrays).toBeGreaterThan(2);
    const reused = await run(true);
    expect(reused.got.equals(payload)).toBe(true);
    if (isBatched)
      expect(reused.arrays).toBeGreaterThan(2); // a batch's reads are always copies
    else expect(reused.arrays).toBeLessThan(kept.arrays); // big reads landed in the same buffer again
  });

  it("answers false when bytes wait, then reports drain once the peer reads them all", async () => {
    const { rec, c, peer } = await pair();
    peer.pause();
    const chunk = Buffer.alloc(256 * 1024, 0x62);
    let written = 0;
    let ok = true;
    for (let i = 0; i < 400 && ok; i++) {
      ok = c.write(chunk);
      written += chunk.length;
    }
    expect(ok).toBe(false); // the kernel's buffers are full: bytes wait (in libuv, or in the addon's queue)
    expect(c.pending).toBeGreaterThan(0);
    let got = 0;
    peer.on("data", (d: Buffer) => {
      got += d.length;
    });
    peer.resume();
    await rec.when("drain");
    expect(c.pending).toBe(0);
    c.destroySoon();
    await rec.when("close");
    await new Promise<void>((r) => (peer.readableEnded ? r() : peer.on("end", () => r())));
    expect(got).toBe(written); // destroySoon flushed everything before closing
  });

  it("connects out, and reports a refused connect as a close without connect", async () => {
    const echo = new Recorder();
    echo.onData = (c, d) => c.write(d);
    const port = await leanServer((c) => {
      c.handler = echo;
      c.resume();
    });
    const rec = new Recorder();
    const out = HandleConn.connect(env, "127.0.0.1", port, false);
    out.handler = rec;
    out.resume(); // reads once connected
    await rec.when("connect");
    expect(out.connected).toBe(true);
    out.write(Buffer.from("ping"));
    while (rec.bytes.length < 4) await new Promise((r) => setTimeout(r, 5));
    expect(rec.bytes.toString()).toBe("ping");
    out.destroy();
    await rec.when("close");

    // a port nothing listens on: the free port of a server just closed
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const free = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    const rec2 = new Recorder();
    const refused = HandleConn.connect(env, "127.0.0.1", free, false);
    refused.handler = rec2;
    await rec2.when("close");
    expect(rec2.events).toEqual(["close"]);
    expect(refused.connected).toBe(false);
  });

  it("dials IPv4 and IPv6 server addresses as lean connections (the family known from the address)", async () => {
    for (const host of ["127.0.0.1", "::1"]) {
      const server = net.createServer((s) => s.pipe(s));
      await new Promise<void>((r) => server.listen(0, host, r));
      closers.push(() => server.close());
      const rec = new Recorder();
      const sent = `ping ${host}`;
      const echoed = new Promise<void>((r) => {
        rec.onData = () => {
          if (rec.bytes.length >= sent.length) r();
        };
      });
      const out = dial({ address: host, port: (server.address() as net.AddressInfo).port }, env);
      expect(out).toBeInstanceOf(HandleConn);
      out.handler = rec;
      out.resume();
      await rec.when("connect");
      expect(out.remoteAddress).toBe(host);
      out.write(Buffer.from(sent));
      await echoed;
      expect(rec.bytes.toString()).toBe(sent);
      out.destroy();
      await rec.when("close");
    }
  });

  it("turns a handler's exception into connFailure, never an uncaught error", async () => {
    const rec = new Recorder();
    const boom = new Error("boom");
    rec.onData = () => {
      throw boom;
    };
    const port = await leanServer((c) => {
      c.handler = rec;
      c.resume();
    });
    const peer = await client(port);
    peer.write("x");
    await rec.when("failure");
    expect(rec.failures).toEqual([boom]);
  });

  it("reports inactivity after the idle timeout, not before", async () => {
    const rec = new Recorder();
    let conn: HandleConn | undefined;
    let at = 0;
    const port = await leanServer((c) => {
      conn = c;
      c.handler = rec;
      c.resume();
      at = performance.now();
      c.idle(80);
    });
    await client(port);
    await rec.when("timeout");
    expect(performance.now() - at).toBeGreaterThanOrEqual(79);
    expect(conn?.destroyed).toBe(false); // a timeout only reports; the handler decides
    conn?.destroy();
    await rec.when("close");
  });

  it(`ends after everything queued and reports a reset peer as a close (${mode})`, async () => {
    const { rec, c, peer } = await pair();
    peer.pause();
    const chunk = Buffer.alloc(256 * 1024, 0x63);
    let ok = true;
    for (let i = 0; i < 400 && ok; i++) ok = c.write(chunk);
    expect(ok).toBe(false);
    c.end(); // the FIN waits for the queue
    peer.resetAndDestroy(); // unread bytes: the kernel answers our next send with a reset
    await rec.when("close");
    expect(c.destroyed).toBe(true);
    expect(rec.failures).toEqual([]);
  });

  it("holds what arrives while paused and hands it over, in order and before EOF, on resume", async () => {
    const { rec, c, peer } = await pair();
    peer.write("first");
    while (rec.bytes.length < 5) await new Promise((r) => setTimeout(r, 5));
    c.pause();
    peer.end("second");
    await new Promise((r) => setTimeout(r, 50)); // not a race: nothing may arrive while paused, however long
    expect(rec.bytes.toString()).toBe("first");
    expect(rec.events).toEqual([]);
    c.resume();
    await rec.when("end");
    expect(rec.bytes.toString()).toBe("firstsecond");
    c.destroy();
    await rec.when("close");
  });
});

describe("HandleConn batched (a stand-in addon and handle)", () => {
  const standIn = () => {
    const time = new FakeTime();
    const calls: string[] = [];
    const addon = { queued: 0 };
    const native = {
      bread: (_x: unknown, on: boolean) => {
        calls.push(on ? "read" : "pause");
        return 0;
      },
      bwrite: (_x: unknown, d: Buffer) => {
        addon.queued += d.length;
        return addon.queued;
      },
      bqueued: () => addon.queued,
      bshut: () => {
        calls.push("shut");
        return addon.queued > 0 ? 0 : 1;
      },
      bstop: () => calls.push("stop"),
    };
    const fakeBatch = {
      native,
      attach: () => ({ ext: {}, slot: 0 }),
      detach: () => calls.push("detach"),
    } as unknown as NonNullable<ConnEnv["batch"]>;
    const fenv = {
      b: {} as ConnEnv["b"],
      clock: new TurnClock(time),
      deadlines: new Deadlines(time, time),
      batch: fakeBatch,
    };
    const h = { fd: 7, setNoDelay: () => 0, useUserBuffer: () => calls.push("userBuffer"), close() {} };
    const c = new HandleConn(fenv, h as unknown as ConstructorParameters<typeof HandleConn>[1], false);
    const rec = new Recorder();
    c.handler = rec;
    return { c, rec, calls, addon };
  };

  it("a DRAINED entry that a write earlier in the same batch made stale reports no drain, and end() waits for the queue", () => {
    const { c, rec, calls, addon } = standIn();
    c.resume();
    expect(c.write(Buffer.alloc(20_000))).toBe(false); // past the high-water mark
    addon.queued = 0; // the addon sent it all and pushed DRAINED; then, in the same batch, before DRAINED:
    c.write(Buffer.alloc(5000)); // queued again
    c.drained();
    expect(rec.events).toEqual([]); // not drained: 5000 bytes still wait
    expect(c.pending).toBe(5000);
    c.batched(0); // the peer's FIN
    c.end(); // must not close with bytes queued: the FIN goes after them
    expect(c.destroyed).toBe(false);
    expect(calls).toContain("shut");
    addon.queued = 0;
    c.drained();
    expect(rec.events).toEqual(["end", "drain"]);
  });

  it("a read error behind held bytes waits for them", async () => {
    const { c, rec } = standIn();
    c.resume();
    c.pause();
    c.batched(Buffer.from("kept"));
    c.batched(-104); // ECONNRESET after the bytes
    expect(c.destroyed).toBe(false);
    c.resume();
    await new Promise((r) => process.nextTick(r));
    expect(rec.bytes.toString()).toBe("kept");
    expect(c.destroyed).toBe(true);
  });

  it("entries the addon read before a pause are held and handed over in order, EOF last, once it reads again", async () => {
    const { c, rec, calls } = standIn();
    c.resume();
    c.batched(Buffer.from("a"));
    c.pause();
    c.batched(Buffer.from("b")); // read in the same turn, before the addon heard of the pause
    expect(rec.bytes.toString()).toBe("a");
    c.resume();
    expect(rec.bytes.toString()).toBe("a"); // handed over on the next tick, not inside resume()
    c.batched(Buffer.from("c")); // cannot overtake what is held
    c.batched(0);
    expect(rec.events).toEqual([]);
    await new Promise((r) => process.nextTick(r));
    expect(rec.bytes.toString()).toBe("abc");
    expect(rec.events).toEqual(["end"]);
    expect(calls).toEqual(["read", "pause", "read", "pause"]); // EOF stops reading
    c.destroy();
    expect(calls.slice(-1)).toEqual(["detach"]);
  });
});
