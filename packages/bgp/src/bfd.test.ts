// The BFD shell on loopback (127.0.0.1 ⇄ 127.0.0.2, real UDP port 3784): two speakers come Up, and a stopped
// speaker's AdminDown takes its peer Down with diagnostic "neighbor-down".
import { describe, expect, it } from "vitest";
import { Bfd, type BfdChange } from "./bfd.js";
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
    const timers = { desiredMinTx: 20, requiredMinRx: 20, detectMult: 3 };
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
});
