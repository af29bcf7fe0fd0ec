import type { ServerState } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { describe, expect, it } from "vitest";
import type { ChangeEvent } from "../events.js";
import { PriorityTracker, priorityDelta, type StateSource } from "./vrrp-priority.js";

class Source extends EventEmitter<{ change: (e: ChangeEvent) => void }> implements StateSource {
  states = new Map<string, ServerState>();
  status(id: string) {
    const state = this.states.get(id);
    return state ? { state } : undefined;
  }
  set(id: string, to: ServerState) {
    const from = this.states.get(id) ?? "up";
    this.states.set(id, to);
    this.emit("change", { id, from, to, reason: "test", at: 0, code: "CUSTOM", duration: 0, since: 0 });
  }
}

describe("VRRP priority from checks (keepalived track_script weights)", () => {
  it("positive weight added while up, negative subtracted while down, 0 = FAULT while down", () => {
    const st = new Map<string, ServerState>([
      ["a", "up"],
      ["b", "down"],
      ["c", "up"],
    ]);
    const tracks = [
      { id: "a", weight: 10 },
      { id: "b", weight: -20 },
      { id: "c", weight: 0 },
    ];
    expect(priorityDelta(tracks, (id) => st.get(id))).toEqual({ delta: -10, fault: false });
    st.set("a", "down");
    st.set("b", "up");
    st.set("c", "down");
    expect(priorityDelta(tracks, (id) => st.get(id))).toEqual({ delta: 0, fault: true });
    // reverse negates the adjustment (keepalived); drain counts as up
    const one = (weight: number, state: ServerState) =>
      priorityDelta([{ id: "x", weight, reverse: true }], () => state);
    expect(one(5, "drain")).toEqual({ delta: -5, fault: false });
    expect(one(5, "down")).toEqual({ delta: 0, fault: false });
    expect(one(-20, "down")).toEqual({ delta: 20, fault: false });
    expect(one(-20, "up")).toEqual({ delta: 0, fault: false });
    expect(one(0, "up")).toEqual({ delta: 0, fault: true });
    expect(one(0, "down")).toEqual({ delta: 0, fault: false });
  });

  it("the tracker follows changes and emits only when delta or fault moves", async () => {
    const src = new Source();
    src.states.set("nginx", "up");
    src.states.set("disk", "up");
    const t = new PriorityTracker(src, [
      { id: "nginx", weight: -30 },
      { id: "disk", weight: 0 },
    ]);
    const seen: unknown[] = [];
    t.on("change", (s) => seen.push(s));
    expect([t.delta, t.fault]).toEqual([0, false]);
    src.set("nginx", "down");
    expect(t.delta).toBe(-30);
    src.set("other", "down"); // untracked
    src.set("disk", "maint");
    expect(t.fault).toBe(true);
    expect(seen).toEqual([
      { delta: -30, fault: false, previous: { delta: 0, fault: false } },
      { delta: -30, fault: true, previous: { delta: -30, fault: false } },
    ]);
    await t.stop();
    await t.stop(); // idempotent
    src.set("nginx", "up");
    expect(seen).toHaveLength(2);
    expect(t.delta).toBe(-30); // the last value, until it follows again
    await t.start(); // follows again and catches up at once
    expect(t.delta).toBe(0);
    src.set("nginx", "down");
    expect(t.delta).toBe(-30);
    expect(seen).toHaveLength(4);
  });

  it("rejects weights outside keepalived's -253..253", () => {
    expect(() => new PriorityTracker(new Source(), [{ id: "a", weight: 300 }])).toThrow(
      "healthcheck: tracks[0].weight 300 must be an integer -253..253 (keepalived track_script weight)",
    );
    expect(() => new PriorityTracker(new Source(), [])).toThrow(/tracks \[\] must list at least one/);
  });
});
