import { describe, expect, it } from "vitest";
import { CloseHooks } from "./close-hooks.js";

describe("CloseHooks", () => {
  it("runs every hook once, in the order added", () => {
    const seen: number[] = [];
    const h = new CloseHooks(() => seen.push(1));
    h.add(() => seen.push(2));
    h.add(() => seen.push(3));
    h.run();
    expect(seen).toEqual([1, 2, 3]);
  });

  it("a single hook runs alone", () => {
    let n = 0;
    new CloseHooks(() => n++).run();
    expect(n).toBe(1);
  });

  it("a throwing hook stops the rest and the error reaches the caller", () => {
    const seen: number[] = [];
    const h = new CloseHooks(() => {
      throw new Error("boom");
    });
    h.add(() => seen.push(2));
    expect(() => h.run()).toThrow("boom");
    expect(seen).toEqual([]);
  });
});
