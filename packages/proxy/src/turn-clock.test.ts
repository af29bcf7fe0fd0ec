import { FakeTime } from "@lbkit/core/testing";
import { describe, expect, it } from "vitest";
import { TurnClock } from "./turn-clock.js";

describe("TurnClock", () => {
  it("reads the clock once inside a callback (nested ones included) and every time outside", () => {
    const time = new FakeTime(1000);
    let reads = 0;
    const clock = new TurnClock({
      now: () => {
        reads++;
        return time.now();
      },
    });
    expect(clock.now()).toBe(1000);
    time.advanceSync(5);
    expect(clock.now()).toBe(1005);
    expect(reads).toBe(2);
    clock.enter();
    expect(clock.now()).toBe(1005);
    time.advanceSync(5);
    clock.enter(); // a callback inside a callback keeps the time of the outer one
    expect(clock.now()).toBe(1005);
    clock.exit();
    expect(clock.now()).toBe(1005);
    clock.exit();
    expect(reads).toBe(3);
    expect(clock.now()).toBe(1010);
    clock.enter(); // the next callback reads afresh
    time.advanceSync(1);
    expect(clock.now()).toBe(1011);
    clock.exit();
  });
});
