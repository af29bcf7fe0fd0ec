import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import type { Conn } from "./conn.js";
import { UpstreamConn, UpstreamPool } from "./upstream.js";

/** A connected, writable stand-in for a socket: the pool only reads its state and destroys it. */
function fakeConn(): Conn & { destroyCount: number } {
  const c = {
    handler: undefined,
    recycle: false,
    connected: true,
    destroyed: false,
    readEnded: false,
    writable: true,
    destroyCount: 0,
    resume() {},
    destroy() {
      c.destroyed = true;
      c.writable = false;
      c.destroyCount++;
    },
  };
  return c as unknown as Conn & { destroyCount: number };
}

function pool(time: FakeTime, idleTimeout = 1000) {
  return new UpstreamPool({
    address: "127.0.0.1",
    port: 1,
    maxIdle: 8,
    idleTimeout,
    maxRequests: 0,
    clock: time,
    timers: time,
    env: undefined,
  });
}

describe("UpstreamPool idle expiry", () => {
  it("closes a connection idle for idleTimeout, not before", () => {
    const time = new FakeTime();
    const p = pool(time);
    const s = fakeConn();
    p.release(new UpstreamConn(s, p));
    time.advanceSync(999);
    expect(p.idleCount).toBe(1);
    time.advanceSync(1);
    expect(p.idleCount).toBe(0);
    expect(s.destroyCount).toBe(1);
  });

  it("expires the oldest first and times each connection from its own release", () => {
    const time = new FakeTime();
    const p = pool(time);
    const a = fakeConn();
    const b = fakeConn();
    p.release(new UpstreamConn(a, p));
    time.advanceSync(400);
    p.release(new UpstreamConn(b, p));
    time.advanceSync(600);
    expect([a.destroyed, b.destroyed]).toEqual([true, false]);
    time.advanceSync(399);
    expect(b.destroyed).toBe(false);
    time.advanceSync(1);
    expect(b.destroyed).toBe(true);
  });

  it("keeps one timer armed from the first release until close, so a release after an idle spell arms none", () => {
    const time = new FakeTime();
    const p = pool(time);
    p.release(new UpstreamConn(fakeConn(), p));
    expect(time.pending).toBe(1);
    time.advanceSync(5500); // the pool emptied long ago
    expect(p.idleCount).toBe(0);
    expect(time.pending).toBe(1);
    const c = fakeConn();
    p.release(new UpstreamConn(c, p));
    expect(time.pending).toBe(1);
    // still timed from its own release: the running sweep re-aims at it
    time.advanceSync(999);
    expect(c.destroyed).toBe(false);
    time.advanceSync(1);
    expect(c.destroyed).toBe(true);
    p.close();
    expect(time.pending).toBe(0);
  });
});
