// The BFD shell on loopback (127.0.0.1 ⇄ 127.0.0.2, real UDP port 3784): two speakers come Up, and a stopped
// speaker's AdminDown takes its peer Down with diagnostic "neighbor-down"; a control packet with TTL 254 is
// dropped and counted (RFC 5881 §5), the same packet with TTL 255 moves the session.
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { controlPacket } from "../test/support.js";
import { BFD_PORT, Bfd, type BfdChange } from "./bfd.js";
import { encodeBfd } from "./bfd-codec.js";
import { BgpConfigError } from "./errors.js";

const next = (bfd: Bfd, to: string) =>
  new Promise<BfdChange>((resolve) => {
    const on = (e: BfdChange) => {
      if (e.to !== to) return;
      bfd.off("change", on);
      resolve(e);
    };
    bfd.on("change", on);
  });

describe("Bfd (UDP shell)", () => {
  it("validates options at construction", () => {
    expect(() => new Bfd({ localAddress: "nope", peers: ["127.0.0.2"] })).toThrow(BgpConfigError);
    expect(() => new Bfd({ localAddress: "127.0.0.1", peers: ["::1"] })).toThrow(/bfd\.peers\[0\]/);
    expect(() => new Bfd({ localAddress: "127.0.0.1", peers: ["127.0.0.2"], detectMult: 0 })).toThrow(
      /bfd\.detectMult/,
    );
  });

  it("two speakers come Up over loopback; stopping one takes the other Down (AdminDown)", async () => {
    // a detection time (10 × 100 ms) longer than an event-loop stall on a loaded host: both speakers share this
    // process, and after a stall the detection timer would run before the AdminDown packet is read
    const timers = { desiredMinTx: 100, requiredMinRx: 100, detectMult: 10 };
    const a = new Bfd({ localAddress: "127.0.0.1", peers: ["127.0.0.2"], ...timers });
    const b = new Bfd({ localAddress: "127.0.0.2", peers: ["127.0.0.1"], ...timers });
    try {
      const upA = next(a, "Up");
      const upB = next(b, "Up");
      await a.start();
      await b.start();
      expect(await upA).toMatchObject({ id: "127.0.0.2", to: "Up" });
      expect(await upB).toMatchObject({ id: "127.0.0.1", to: "Up" });
      const down = next(a, "Down");
      await b.stop();
      expect(await down).toMatchObject({ from: "Up", to: "Down", reason: "neighbor-down" });
      expect(b.state("127.0.0.1")).toBeUndefined();
      await b.start(); // restartable
      expect(await next(a, "Up")).toMatchObject({ to: "Up" });
      const again = next(a, "Down");
      b.stopPeer("127.0.0.1"); // one session ends with AdminDown; the speaker keeps running
      expect(await again).toMatchObject({ reason: "neighbor-down" });
      expect(b.state("127.0.0.1")).toBeUndefined();
    } finally {
      await a.stop();
      await b.stop();
    }
  }, 15_000);

  it("drops and counts a control packet whose TTL is not 255 (GTSM); the same packet at TTL 255 is taken", async () => {
    const bfd = new Bfd({
      localAddress: "127.0.0.1",
      peers: ["127.0.0.3"],
      desiredMinTx: 50,
      requiredMinRx: 50,
    });
    const peer = createSocket("udp4");
    try {
      await bfd.start();
      await new Promise<void>((r) => peer.bind(49_999, "127.0.0.3", r));
      const changes: BfdChange[] = [];
      bfd.on("change", (e) => changes.push(e));
      // the peer's Down packet: a session in Down that receives it goes Init (RFC 5880 §6.8.6)
      const down = encodeBfd(controlPacket({ state: "Down", myDiscriminator: 7 }, 50_000));
      const send = (ttl: number) =>
        new Promise<void>((resolve, reject) => {
          peer.setTTL(ttl);
          peer.send(down, BFD_PORT, "127.0.0.1", (e) => (e ? reject(e) : resolve()));
        });
      const dropped = () => bfd.dropped.ttl;
      for (const ttl of [254, 64, 1]) {
        const before = dropped();
        await send(ttl);
        await waitUntil(() => dropped() === before + 1, `the TTL-${ttl} packet counted in dropped.ttl`);
      }
      expect(bfd.dropped.ttl).toBe(3);
      expect(bfd.state("127.0.0.3")).toBe("Down");
      expect(changes).toEqual([]);
      const init = next(bfd, "Init");
      await send(255);
      expect(await init).toMatchObject({ id: "127.0.0.3", from: "Down", to: "Init" });
      expect(bfd.dropped).toEqual({ ttl: 3, malformed: 0, unknownPeer: 0 });
    } finally {
      peer.close();
      await bfd.stop();
    }
  });
});

/** Resolves once `cond()` holds (a datagram's delivery is an event this test cannot subscribe to). */
async function waitUntil(cond: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
