// The native relay on real loopback sockets: a net.Socket client ↔ a lean accepted connection (side 0) ⇄ relay ⇄
// a lean dialed connection (side 1) ↔ a net.Socket at the far server. What each end receives, in order and
// intact, what the relay reports, and that it never holds more than one buffer per direction.
import { createHash } from "node:crypto";
import net from "node:net";
import { systemTime, tcpWrap } from "@lbkit/core";
import { afterEach, describe, expect, it } from "vitest";
import { type Conn, type ConnHandler, NO_HANDLER } from "./conn.js";
import { Deadlines } from "./deadlines.js";
import { dial } from "./dial.js";
import { type ConnEnv, HandleConn, leanAccept } from "./handle-conn.js";
import { loadRelay, nativeRelay, type Relay, type RelayHandler, reloadRelay, startRelay } from "./relay.js";
import { TurnClock } from "./turn-clock.js";

const probe = tcpWrap();
const env: ConnEnv = {
  b: probe.bindings as NonNullable<typeof probe.bindings>,
  clock: new TurnClock(systemTime),
  deadlines: new Deadlines(systemTime, systemTime),
};

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0).reverse()) c();
  delete process.env.LBKIT_PROXY_RELAY;
  reloadRelay();
});

/** Records the relay's reports; `when` waits for one. */
class Reports implements RelayHandler {
  events: string[] = [];
  errnos: number[] = [];
  onReport: (() => void) | undefined;
  private waiters: [string, () => void][] = [];
  relayEnd(side: 0 | 1): void {
    this.note(`end ${side}`);
  }
  relayDone(): void {
    this.note("done");
  }
  relayError(side: 0 | 1, errno: number): void {
    this.errnos.push(errno);
    this.note(`error ${side}`);
  }
  private note(e: string): void {
    this.events.push(e);
    this.onReport?.();
    for (const w of this.waiters.filter(([n]) => n === e)) w[1]();
  }
  when(e: string): Promise<void> {
    if (this.events.includes(e)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push([e, resolve]));
  }
}

/** A connection handler that fails the test if the connection reports anything but a close or a timeout. */
class Silent implements ConnHandler {
  seen: string[] = [];
  connData(_c?: Conn, _d?: Buffer): void {
    this.seen.push("data");
  }
  connEnd(): void {
    this.seen.push("end");
  }
  connClose(): void {
    this.seen.push("close");
  }
  connDrain(): void {
    this.seen.push("drain");
  }
  connTimeout(): void {
    this.seen.push("timeout");
  }
  connConnect(): void {}
  connFailure(_c: Conn, e: unknown): void {
    throw e;
  }
}

function listen(server: net.Server): Promise<number> {
  closers.push(() => server.close());
  return new Promise((r) =>
    server.listen(0, "127.0.0.1", () => r((server.address() as net.AddressInfo).port)),
  );
}

/** client ↔ a (lean, side 0) ⇄ relay ⇄ b (lean, side 1) ↔ far. */
async function chain() {
  let far: net.Socket | undefined;
  const farServer = net.createServer({ allowHalfOpen: true }, (s) => {
    far = s;
    closers.push(() => s.destroy());
  });
  const farPort = await listen(farServer);
  const front = net.createServer({ allowHalfOpen: true });
  const frontPort = await listen(front);
  const accepted = new Promise<HandleConn>((resolve) => leanAccept(front, env, resolve));
  const client = net.connect({ port: frontPort, host: "127.0.0.1", allowHalfOpen: true });
  closers.push(() => client.destroy());
  const a = await accepted;
  a.handler = new Silent();
  const b = dial({ address: "127.0.0.1", port: farPort }, env);
  expect(b).toBeInstanceOf(HandleConn);
  b.resume(); // as an L4 session does: it reads once connected, unless the relay takes it in connConnect
  const reports = new Reports();
  let relay: Relay | undefined | null;
  await new Promise<void>((resolve) => {
    b.handler = {
      ...NO_HANDLER,
      connConnect: () => {
        relay = startRelay(a, b, reports);
        resolve();
      },
    } as ConnHandler;
  });
  b.handler = new Silent();
  closers.push(() => {
    a.destroy();
    b.destroy();
  });
  expect(relay).toBeDefined();
  while (far === undefined) await new Promise((r) => setImmediate(r));
  return {
    client,
    far: far as net.Socket,
    a: a as HandleConn,
    b: b as HandleConn,
    relay: relay as Relay,
    reports,
  };
}

function collect(s: net.Socket): { bytes: () => Buffer; ended: Promise<void> } {
  const got: Buffer[] = [];
  s.on("data", (d) => got.push(d));
  return { bytes: () => Buffer.concat(got), ended: new Promise((r) => s.once("end", () => r())) };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("native relay", () => {
  it("is on where the addon is built (it is, wherever the tests run: pnpm install builds it)", () => {
    expect(nativeRelay()).toEqual({
      on: true,
      eager: false,
      reason: expect.stringContaining("native/relay.c"),
    });
  });

  it("is off with LBKIT_PROXY_RELAY=0 or without the addon, and says why; sessions then relay in JavaScript", () => {
    expect(loadRelay(undefined, { LBKIT_PROXY_RELAY: "0" }).info).toEqual({
      on: false,
      eager: false,
      reason: "LBKIT_PROXY_RELAY=0 turns it off",
    });
    expect(loadRelay(undefined, { LBKIT_PROXY_RELAY: "off" }).info).toEqual({
      on: false,
      eager: false,
      reason: 'LBKIT_PROXY_RELAY="off" is not one of 0, 1, eager',
    });
    expect(loadRelay(undefined, { LBKIT_PROXY_RELAY: "eager" }).info).toMatchObject({
      on: true,
      eager: true,
    });
    expect(loadRelay(undefined, { LBKIT_PROXY_RELAY: "1" }).info).toMatchObject({ on: true, eager: false });
    const missing = loadRelay("/nonexistent-lbkit-dir", {});
    expect(missing.native).toBeUndefined();
    expect(missing.info.reason).toMatch(/^the relay addon is not built \(.+\); reinstall with python3/);
    process.env.LBKIT_PROXY_RELAY = "0";
    reloadRelay();
    const fake = { pending: 0 } as unknown as Conn;
    expect(startRelay(fake, fake, new Reports())).toBeUndefined();
  });

  it("moves 8 MiB each way at once, intact, without a read reaching JavaScript; a FIN each way ends it", async () => {
    const { client, far, a, b, relay, reports } = await chain();
    const up = Buffer.alloc(8 << 20);
    const down = Buffer.alloc(8 << 20);
    for (let i = 0; i < up.length; i += 4) {
      up.writeUInt32LE((i * 2654435761) >>> 0, i);
      down.writeUInt32LE((i * 40503) >>> 0, i);
    }
    const atFar = collect(far);
    const atClient = collect(client);
    client.end(up);
    far.write(down);
    await atFar.ended; // the client's FIN came through after its bytes
    expect(sha(atFar.bytes())).toBe(sha(up));
    await reports.when("end 0");
    expect(reports.events).toEqual(["end 0"]);
    far.end("!");
    await atClient.ended;
    expect(sha(atClient.bytes())).toBe(sha(Buffer.concat([down, Buffer.from("!")])));
    await reports.when("done");
    expect(reports.events).toEqual(["end 0", "done"]);
    expect([relay.bytes(0), relay.bytes(1)]).toEqual([up.length, down.length + 1]);
    expect(relay.ago(0)).toBe(-1); // stopped
    expect((a.handler as Silent).seen).toEqual([]);
    expect((b.handler as Silent).seen).toEqual([]);
  });

  it("passes the server's FIN first while the client goes on sending", async () => {
    const { client, far, reports } = await chain();
    const atClient = collect(client);
    const atFar = collect(far);
    far.end("bye");
    await atClient.ended;
    expect(String(atClient.bytes())).toBe("bye");
    await reports.when("end 1");
    client.write("still ");
    client.end("talking");
    await atFar.ended;
    expect(String(atFar.bytes())).toBe("still talking");
    await reports.when("done");
    expect(reports.events).toEqual(["end 1", "done"]);
  });

  it("holds back a side that cannot take more: the other side's reads stop, nothing piles up, then all arrives", async () => {
    const { client, far, relay } = await chain();
    client.pause(); // the client reads nothing
    const written = 64 << 20;
    far.write(Buffer.alloc(written, 7)); // what the kernel does not take waits in the far socket's own queue
    let relayed = -1;
    // the relay moves bytes until the client's socket buffers are full, then stops reading: nothing piles up
    while (relay.bytes(1) !== relayed) {
      relayed = relay.bytes(1);
      await new Promise((r) => setTimeout(r, 200));
    }
    // loopback socket buffers hold a few MiB: the rest waits at the far end, none of it in the relay
    expect(relayed).toBeGreaterThan(0);
    expect(relayed).toBeLessThan(written / 2);
    const atClient = collect(client);
    client.resume();
    far.end();
    await atClient.ended;
    expect(atClient.bytes().length).toBe(written);
    expect(atClient.bytes().every((x) => x === 7)).toBe(true);
  });

  it("reports a reset on either side as an error of that side and stops", async () => {
    for (const side of [0, 1] as const) {
      const { client, far, reports } = await chain();
      client.on("error", () => {});
      far.on("error", () => {});
      client.write("x");
      await new Promise<void>((r) => far.once("data", () => r()));
      (side === 0 ? client : far).resetAndDestroy();
      await reports.when(`error ${side}`);
      expect(reports.events).toEqual([`error ${side}`]);
      expect(reports.errnos[0]).toBeLessThan(0);
    }
  });

  it("passes on what arrived before a reset, then reports the reset (one poll event brings both)", async () => {
    const { client, far, reports } = await chain();
    far.on("error", () => {});
    const atClient = collect(client);
    client.write("request");
    await new Promise<void>((r) => far.once("data", () => r()));
    far.write("the answer");
    far.resetAndDestroy(); // the data and the RST reach the relay's socket before this loop polls again
    await reports.when("error 1");
    while (atClient.bytes().length < 10) await new Promise((r) => setTimeout(r, 10));
    expect(String(atClient.bytes())).toBe("the answer");
    expect(reports.events).toEqual(["error 1"]);
  });

  it("refuses a descriptor a libuv handle still polls (UV_EEXIST): the session then stays in JavaScript", async () => {
    const { client } = await chain();
    const native = loadRelay().native as NonNullable<ReturnType<typeof loadRelay>["native"]>;
    const fd = (client as unknown as { _handle: { fd: number } })._handle.fd; // a reading net.Socket's
    const other = await chain();
    expect(native.start({} as never, fd, other.a.fd)).toBe(-17);
  });

  it("a connection taken back reads again as it did; one lent must not be written to or ended", async () => {
    const { far, b, relay } = await chain();
    expect(() => b.write(Buffer.from("x"))).toThrow(/write\(\) on a connection lent to the native relay/);
    expect(() => b.end()).toThrow(/end\(\) on a connection lent/);
    relay.stop(); // as when start() failed: the connection is taken back
    const got: Buffer[] = [];
    const reader = new Silent();
    reader.connData = (_c?: Conn, d?: Buffer) => void got.push(d as Buffer);
    b.handler = reader;
    b.lend(undefined, 1); // it was to read once connected (chain() resumed it): it reads now
    far.write("back in JavaScript");
    while (got.length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(String(Buffer.concat(got))).toBe("back in JavaScript");
  });

  it("stops inside its own report, and when either connection is destroyed; stop is idempotent", async () => {
    const one = await chain();
    one.reports.onReport = () => one.relay.stop();
    one.client.end();
    await one.reports.when("end 0");
    const atClient = collect(one.client);
    one.far.write("after the stop"); // nobody relays it any more
    await new Promise((r) => setTimeout(r, 200));
    expect(atClient.bytes().length).toBe(0);
    one.relay.stop();
    expect(one.relay.bytes(0)).toBe(0);

    const two = await chain();
    two.a.destroy(); // the relay's polls leave the descriptor before the handle closes it
    expect(two.relay.ago(0)).toBe(-1);
    two.b.destroy();
    await new Promise((r) => two.far.once("end", r));
    two.far.resume();
    expect(two.reports.events).toEqual([]);
  });

  it("a lent connection's inactivity timeout sees the relay's traffic: it fires only after a quiet period", async () => {
    const { client, far, a } = await chain();
    const silent = a.handler as Silent;
    far.resume();
    // 10x the write period: an event-loop stall (100-300 ms on a loaded CI VM) is itself a quiet period, and
    // after it the timer phase runs the timeout before the poll phase relays the pending tick; 500 ms outlasts
    // a 50 ms gap plus any such stall, so only the real quiet period below ends the session
    a.idle(500);
    const start = Date.now();
    // traffic every 50 ms for 1000 ms: twice the timeout, never quiet for it
    while (Date.now() - start < 1000) {
      client.write("tick");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(silent.seen).toEqual([]);
    const quietFrom = Date.now();
    while (!silent.seen.includes("timeout")) await new Promise((r) => setTimeout(r, 20));
    // the last tick went 50 ms (plus any stall) before the quiet period began: the timeout, 500 ms after it,
    // cannot come this soon even after a 300 ms stall
    expect(Date.now() - quietFrom).toBeGreaterThanOrEqual(150);
  });
});
