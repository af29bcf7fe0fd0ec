import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { type DeadlineOwner, Deadlines } from "./deadlines.js";

const owner = (name: string, out: string[]): DeadlineOwner => ({
  heapPos: -1,
  deadline: 0,
  deadlinePassed: () => out.push(name),
});

describe("Deadlines", () => {
  it("expires owners in deadline order with one timer, and moves or clears a deadline", () => {
    const time = new FakeTime();
    const d = new Deadlines(time, time);
    const out: string[] = [];
    const [a, b, c] = [owner("a", out), owner("b", out), owner("c", out)];
    d.set(a, 300);
    d.set(b, 100);
    d.set(c, 200);
    expect(time.pending).toBe(1);
    d.set(b, 250); // moved later: the timer fires early, finds nothing due and re-arms
    d.clear(c);
    time.advanceSync(249);
    expect(out).toEqual([]);
    time.advanceSync(1);
    expect(out).toEqual(["b"]);
    time.advanceSync(50);
    expect(out).toEqual(["b", "a"]);
    expect(time.pending).toBe(0);
  });

  it("cancels its timer when the last deadline is cleared (nothing holds the process open)", () => {
    const time = new FakeTime();
    const d = new Deadlines(time, time);
    const out: string[] = [];
    const a = owner("a", out);
    d.set(a, 10_000);
    d.clear(a);
    d.clear(a); // twice is harmless
    expect(time.pending).toBe(0);
    time.advanceSync(20_000);
    expect(out).toEqual([]);
  });

  it("an owner set again from an expiry is expired on its new deadline, before later ones", () => {
    const time = new FakeTime();
    const d = new Deadlines(time, time);
    const out: string[] = [];
    const late = owner("late", out);
    const again: DeadlineOwner = {
      heapPos: -1,
      deadline: 0,
      deadlinePassed: () => {
        out.push(`again@${time.now()}`);
        if (time.now() < 150) d.set(again, time.now() + 100);
      },
    };
    d.set(late, 1000);
    d.set(again, 100);
    time.advanceSync(1000);
    expect(out).toEqual(["again@100", "again@200", "late"]);
  });
});
