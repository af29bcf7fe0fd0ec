import { LbkitError } from "@lbkit/core";
import { describe, expect, it } from "vitest";
import { BgpConfigError } from "./errors.js";
import { BgpSpeaker, type BgpSpeakerOptions } from "./speaker.js";

const base: BgpSpeakerOptions = {
  gobgp: { address: "127.0.0.1:50051" },
  localAs: 65001,
  routerId: "198.18.0.11",
  neighbors: [{ address: "198.18.0.10", peerAs: 65000 }],
  routes: [{ prefix: "198.18.1.1/32" }],
};

function configError(o: unknown): BgpConfigError {
  try {
    new BgpSpeaker(o as BgpSpeakerOptions);
  } catch (e) {
    if (e instanceof BgpConfigError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("BgpSpeaker options", () => {
  it("fails at construction naming the option, the value and the fix", () => {
    const e = configError({ ...base, routerId: "2001:db8::1" });
    expect(e).toBeInstanceOf(LbkitError);
    expect(e).toMatchObject({ code: "ERR_CONFIG", option: "routerId", value: "2001:db8::1" });
    expect(e.message).toMatch(/^bgp: routerId/);
    expect(configError({ ...base, neighbors: [] }).option).toBe("neighbors");
    expect(
      configError({ ...base, neighbors: [{ address: "198.18.0.10", peerAs: 65000, holdTime: 2 }] }).option,
    ).toBe("neighbors[0].holdTime");
    expect(configError({ ...base, routes: [{ prefix: "2001:db8:1::1/128" }] }).option).toBe("nextHop6");
    expect(configError({ ...base, rise: -1 }).option).toBe("rise");
    expect(configError({ ...base, nieghbors: [] }).message).toMatch(/did you mean "neighbors"/);
  });

  it("starts withdrawn, and drain() before start() is ERR_NOT_RUNNING", async () => {
    const s = new BgpSpeaker(base);
    expect(s.state).toBe("withdrawn");
    expect(s.id).toBe("198.18.0.11");
    await expect(s.drain()).rejects.toMatchObject({ code: "ERR_NOT_RUNNING" });
    await s.stop(); // idempotent without start
  });

  it("a failed start (no daemon) rejects with ERR_DAEMON and leaves the speaker startable", async () => {
    const s = new BgpSpeaker({ ...base, gobgp: { address: "127.0.0.1:1", deadline: 300 } });
    await expect(s.start()).rejects.toMatchObject({ code: "ERR_DAEMON" });
    await expect(s.start()).rejects.toMatchObject({ code: "ERR_DAEMON" });
    await s.stop();
  });
});
