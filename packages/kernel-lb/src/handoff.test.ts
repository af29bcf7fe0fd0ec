import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { FlowHandoff, flowHandoffConfig, handoffCommands, handoffTableCommands } from "./handoff.js";
import type { Nft } from "./nft.js";
import type { NftCommand } from "./ruleset.js";

const base = { vips: ["198.18.0.200"], ports: [80], device: "eth0" };

describe("flow handoff commands", () => {
  it("forwards only non-SYN packets of flows conntrack did not see open here, to the peer, unchanged", () => {
    const c = flowHandoffConfig(base);
    expect(handoffTableCommands(c).map((x) => x.text)).toEqual([
      "add table ip lbkit_handoff",
      "flush table ip lbkit_handoff",
      "add chain ip lbkit_handoff prerouting { type filter hook prerouting priority mangle; policy accept; }",
    ]);
    expect(handoffCommands(c, "198.18.0.12").map((x) => x.text)).toEqual([
      "flush chain ip lbkit_handoff prerouting",
      'add rule ip lbkit_handoff prerouting ip daddr 198.18.0.200 tcp dport 80 tcp flags & syn == 0 ct state new,invalid counter dup to 198.18.0.12 device "eth0" drop',
    ]);
    expect(handoffCommands(c, undefined).map((x) => x.text)).toEqual([
      "flush chain ip lbkit_handoff prerouting",
    ]);
    const many = flowHandoffConfig({ ...base, vips: ["198.18.0.200", "198.18.0.201"], ports: [80, 443] });
    expect(handoffCommands(many, "198.18.0.12")[1]?.text).toContain(
      "ip daddr { 198.18.0.200, 198.18.0.201 } tcp dport { 80, 443 }",
    );
  });

  it("fails at construction on bad options, naming the value and the fix", () => {
    expect(() => flowHandoffConfig({ ...base, vips: [] })).toThrow(/vips.*at least one IPv4/);
    expect(() => flowHandoffConfig({ ...base, vips: ["2001:db8::1"] })).toThrow(/vips\[0\].*IPv4 only/);
    expect(() => flowHandoffConfig({ ...base, ports: [70000] })).toThrow(/ports\[0\]/);
    expect(() => flowHandoffConfig({ ...base, device: "eth0; flush ruleset" })).toThrow(
      /device.*interface name/,
    );
    expect(() => flowHandoffConfig({ ...base, table: "1bad" })).toThrow(/table/);
    expect(() => flowHandoffConfig({ ...base, graceMs: 0 })).toThrow(/graceMs/);
    expect(() => flowHandoffConfig({ ...base, grace: 10 } as never)).toThrow(/grace.*graceMs/);
  });
});

describe("FlowHandoff", () => {
  const recorder = () => {
    const applied: string[][] = [];
    const nft: Nft = {
      apply: async (cmds: readonly NftCommand[]) => {
        applied.push(cmds.map((c) => String(c.text)));
      },
    };
    return { applied, nft };
  };

  it("forwards for the grace period, then flushes; cancel and stop end it early; the table goes at stop", async () => {
    const time = new FakeTime();
    const { applied, nft } = recorder();
    const h = new FlowHandoff({ ...base, graceMs: 1500, nft, timers: time });
    const events: (string | undefined)[] = [];
    h.on("forward", (e) => events.push(e.peer));
    await expect(h.forward("198.18.0.12")).rejects.toThrow(/not started/);
    await h.start();
    await h.forward("198.18.0.12");
    expect(h.peer).toBe("198.18.0.12");
    expect(applied.at(-1)?.[1]).toContain("dup to 198.18.0.12");
    await time.advance(1499);
    expect(h.peer).toBe("198.18.0.12");
    await time.advance(1);
    await new Promise((r) => setImmediate(r));
    expect(h.peer).toBeUndefined();
    expect(applied.at(-1)).toEqual(["flush chain ip lbkit_handoff prerouting"]);
    // a second move restarts the grace; cancel ends it at once
    await h.forward("198.18.0.13");
    await h.cancel();
    expect(h.peer).toBeUndefined();
    await time.advance(5000); // the cancelled timer does nothing
    await h.forward("198.18.0.12");
    await h.stop();
    expect(applied.at(-1)).toEqual(["delete table ip lbkit_handoff"]);
    expect(events).toEqual(["198.18.0.12", undefined, "198.18.0.13", undefined, "198.18.0.12", undefined]);
    await expect(h.forward("fe80::1")).rejects.toThrow(/not started/);
  });

  it("rejects a peer that is not an IPv4 address", async () => {
    const { nft } = recorder();
    const h = new FlowHandoff({ ...base, nft });
    await h.start();
    await expect(h.forward("not-an-address")).rejects.toThrow(/peer.*IPv4/);
    await h.stop();
  });
});
