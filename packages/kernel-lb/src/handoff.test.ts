import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { FlowHandoff, flowHandoffConfig, handoffCommands, handoffTableCommands } from "./handoff.js";
import type { Nft } from "./nft.js";
import type { NftCommand } from "./ruleset.js";

const base = { vips: ["198.18.0.200"], ports: [80], device: "eth0" };

describe("flow handoff commands", () => {
  it("tracks flows from start; forwards only non-SYN packets of flows conntrack did not see open, for graceMs", () => {
    const c = flowHandoffConfig(base);
    expect(handoffTableCommands(c).map((x) => x.text)).toEqual([
      "add table ip lbkit_handoff",
      "delete table ip lbkit_handoff",
      "add table ip lbkit_handoff",
      "add set ip lbkit_handoff active { type ipv4_addr; flags timeout; }",
      "add chain ip lbkit_handoff handoff",
      "add chain ip lbkit_handoff prerouting { type filter hook prerouting priority mangle; policy accept; }",
      "add rule ip lbkit_handoff prerouting ct state established,related accept",
      "add rule ip lbkit_handoff prerouting ip daddr @active jump handoff",
    ]);
    expect(handoffCommands(c, "198.18.0.12").map((x) => x.text)).toEqual([
      "flush set ip lbkit_handoff active",
      "flush chain ip lbkit_handoff handoff",
      'add rule ip lbkit_handoff handoff tcp dport 80 tcp flags & syn == 0 ct state new counter dup to 198.18.0.12 device "eth0" drop',
      "add element ip lbkit_handoff active { 198.18.0.200 timeout 2000ms }",
    ]);
    expect(handoffCommands(c, undefined).map((x) => x.text)).toEqual([
      "flush set ip lbkit_handoff active",
      "flush chain ip lbkit_handoff handoff",
    ]);
    const many = flowHandoffConfig({
      ...base,
      vips: ["198.18.0.200", "198.18.0.201"],
      ports: [80, 443],
      graceMs: 900,
    });
    const cmds = handoffCommands(many, "198.18.0.12").map((x) => x.text);
    expect(cmds[2]).toContain("tcp dport { 80, 443 }");
    expect(cmds[3]).toBe(
      "add element ip lbkit_handoff active { 198.18.0.200 timeout 900ms, 198.18.0.201 timeout 900ms }",
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

  it("reports the grace period's end; cancel and stop end it early; the table goes at stop", async () => {
    const time = new FakeTime();
    const { applied, nft } = recorder();
    const h = new FlowHandoff({ ...base, graceMs: 1500, nft, timers: time });
    const events: (string | undefined)[] = [];
    h.on("forward", (e) => events.push(e.peer));
    await expect(h.forward("198.18.0.12")).rejects.toThrow(/not started/);
    await h.start();
    await h.forward("198.18.0.12");
    expect(h.peer).toBe("198.18.0.12");
    expect(applied.at(-1)?.[2]).toContain("dup to 198.18.0.12");
    expect(applied.at(-1)?.[3]).toContain("timeout 1500ms"); // the kernel ends it
    await time.advance(1499);
    expect(h.peer).toBe("198.18.0.12");
    await time.advance(1);
    expect(h.peer).toBeUndefined();
    // a second move restarts the grace; cancel ends it at once
    await h.forward("198.18.0.13");
    await h.cancel();
    expect(h.peer).toBeUndefined();
    expect(applied.at(-1)).toEqual([
      "flush set ip lbkit_handoff active",
      "flush chain ip lbkit_handoff handoff",
    ]);
    await time.advance(5000); // the cancelled timer does nothing
    await h.forward("198.18.0.12");
    await h.stop();
    expect(applied.at(-1)).toEqual(["delete table ip lbkit_handoff"]);
    expect(events).toEqual(["198.18.0.12", undefined, "198.18.0.13", undefined, "198.18.0.12", undefined]);
    await expect(h.forward("198.18.0.12")).rejects.toThrow(/not started/);
  });

  it("applies in call order: a cancel or stop while a forward is being applied wins, and nothing is reported", async () => {
    const applied: string[][] = [];
    let release: () => void = () => {};
    let slow = false;
    const nft: Nft = {
      apply: async (cmds: readonly NftCommand[]) => {
        if (slow) await new Promise<void>((r) => (release = r));
        applied.push(cmds.map((c) => String(c.text)));
      },
    };
    const time = new FakeTime();
    const h = new FlowHandoff({ ...base, nft, timers: time });
    const events: (string | undefined)[] = [];
    h.on("forward", (e) => events.push(e.peer));
    await h.start();
    slow = true;
    const f = h.forward("198.18.0.12");
    const c = h.cancel();
    slow = false;
    release();
    await Promise.all([f, c]);
    expect(applied.slice(-2).map((a) => a.length)).toEqual([4, 2]); // the rule, then the flush after it
    expect(h.peer).toBeUndefined();
    expect(events).toEqual([]);
    await time.advance(10_000); // no timer was left behind
    expect(events).toEqual([]);
    // a forward whose apply fails leaves no peer behind
    const failing = new FlowHandoff({
      ...base,
      nft: {
        apply: async (cmds: readonly NftCommand[]) => {
          if (cmds.some((x) => String(x.text).includes("dup to"))) throw new Error("nft: no");
        },
      },
      timers: time,
    });
    await failing.start();
    await expect(failing.forward("198.18.0.12")).rejects.toThrow(/nft: no/);
    expect(failing.peer).toBeUndefined();
    await failing.stop();
    await h.stop();
  });

  it("rejects a peer that is not an IPv4 address", async () => {
    const { nft } = recorder();
    const h = new FlowHandoff({ ...base, nft });
    await h.start();
    await expect(h.forward("not-an-address")).rejects.toThrow(/peer.*IPv4/);
    await h.stop();
  });
});
