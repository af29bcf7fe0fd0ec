import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Listed, TrackedList } from "./tracked-list.js";

const entry = (id: number) => ({ id, trackPos: -1 });

describe("TrackedList", () => {
  it("adds, removes from any place and counts; a second add or delete changes nothing", () => {
    const l = new TrackedList<Listed & { id: number }>();
    const [a, b, c] = [entry(1), entry(2), entry(3)];
    l.add(a);
    l.add(b);
    l.add(c);
    l.add(b);
    expect(l.size).toBe(3);
    expect(l.delete(a)).toBe(true);
    expect(l.delete(a)).toBe(false);
    expect(a.trackPos).toBe(-1);
    expect(
      l
        .snapshot()
        .map((x) => x.id)
        .sort(),
    ).toEqual([2, 3]);
    expect(l.delete(c)).toBe(true);
    expect(l.delete(b)).toBe(true);
    expect(l.size).toBe(0);
  });

  it("an entry of another list is not removed by this one", () => {
    const l1 = new TrackedList<Listed & { id: number }>();
    const l2 = new TrackedList<Listed & { id: number }>();
    const a = entry(1);
    const b = entry(2);
    l1.add(a);
    l2.add(b);
    expect(l1.delete(b)).toBe(false);
    expect(l2.size).toBe(1);
  });

  it("behaves as a set under any sequence of adds and deletes", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(9)), { maxLength: 200 }), (ops) => {
        const l = new TrackedList<Listed & { id: number }>();
        const model = new Set<number>();
        const entries = Array.from({ length: 10 }, (_, i) => entry(i));
        for (const [add, i] of ops) {
          const e = entries[i] as Listed & { id: number };
          if (add) {
            l.add(e);
            model.add(i);
          } else expect(l.delete(e)).toBe(model.delete(i));
        }
        expect(l.size).toBe(model.size);
        expect(new Set(l.snapshot().map((x) => x.id))).toEqual(model);
        for (const e of entries) expect(e.trackPos >= 0).toBe(model.has(e.id));
      }),
      { numRuns: 200 },
    );
  });

  it("keeps no reference to a removed entry (the removed slot is gone from the array)", () => {
    const l = new TrackedList<Listed & { id: number }>();
    const xs = Array.from({ length: 5 }, (_, i) => entry(i));
    for (const x of xs) l.add(x);
    for (const x of xs.slice(0, 4)) l.delete(x);
    const items = (l as unknown as { items: unknown[] }).items;
    expect(items).toHaveLength(1);
    expect(items).toEqual([xs[4]]);
  });
});
