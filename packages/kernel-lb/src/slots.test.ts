import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashBuckets, normaliseWeights, weightedSequence } from "./slots.js";

const count = (xs: number[], n: number) => {
  const c = new Array<number>(n).fill(0);
  for (const x of xs) c[x]!++;
  return c;
};

describe("weightedSequence (wrr)", () => {
  it("is nginx's smooth sequence: 5,1,1 → a a b a c a a", () => {
    const seq = weightedSequence([
      { key: "a", weight: 5 },
      { key: "b", weight: 1 },
      { key: "c", weight: 1 },
    ]);
    expect(seq.map((i) => "abc"[i]).join("")).toBe("aabacaa");
  });

  it("divides by the gcd and gives exact proportions within the slot bound", () => {
    const seq = weightedSequence([
      { key: "a", weight: 100 },
      { key: "b", weight: 200 },
      { key: "c", weight: 300 },
    ]);
    expect(seq.length).toBe(6);
    expect(count(seq, 3)).toEqual([1, 2, 3]);
  });

  it("property: each member's share is exact when the weights fit, within 1/maxSlots of the total otherwise", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 256 }), { minLength: 1, maxLength: 60 }), (weights) => {
        const maxSlots = 512;
        const seq = weightedSequence(
          weights.map((weight, i) => ({ key: `m${i}`, weight })),
          maxSlots,
        );
        const c = count(seq, weights.length);
        const total = weights.reduce((a, b) => a + b, 0);
        for (let i = 0; i < weights.length; i++) {
          expect(c[i]).toBeGreaterThanOrEqual(1);
          expect(Math.abs(c[i]! / seq.length - weights[i]! / total)).toBeLessThanOrEqual(
            seq.length <= maxSlots &&
              normaliseWeights(weights, maxSlots).every((w, j) => w * total === weights[j]! * seq.length)
              ? 1e-9
              : 2 / Math.min(seq.length, maxSlots) + weights.length / maxSlots,
          );
        }
      }),
      { numRuns: 200 },
    );
  }, 20_000);

  it("is smooth: no member gets more than ceil(its share) of any window of the sequence's length", () => {
    const seq = weightedSequence([
      { key: "a", weight: 3 },
      { key: "b", weight: 2 },
    ]);
    expect(seq.map((i) => "ab"[i]).join("")).toBe("ababa");
  });
});

describe("hashBuckets (sh)", () => {
  const members = (n: number, w = 1) =>
    Array.from({ length: n }, (_, i) => ({ key: `198.18.0.${i + 10}:80`, weight: w }));

  it("spreads buckets by weight (within 20 % of the share at 256 buckets per member)", () => {
    const ms = [...members(3), { key: "198.18.0.99:80", weight: 3 }];
    const b = hashBuckets(ms, 4096);
    const c = count(b, ms.length);
    const total = 6;
    for (let i = 0; i < ms.length; i++) {
      const share = ms[i]!.weight / total;
      expect(Math.abs(c[i]! / 4096 - share) / share).toBeLessThan(0.2);
    }
  });

  it("is deterministic and moves only the removed member's buckets", () => {
    const ms = members(8);
    const a = hashBuckets(ms, 2048);
    expect(hashBuckets(ms, 2048)).toEqual(a);
    const without = ms.filter((_, i) => i !== 3);
    const b = hashBuckets(without, 2048);
    for (let i = 0; i < a.length; i++) {
      if (a[i] === 3) continue;
      expect(without[b[i]!]!.key).toBe(ms[a[i]!]!.key);
    }
  });

  it("gives every member of 10,000 (weights 1..256) its buckets in proportion, within a 65536-bucket table", () => {
    const ms = Array.from({ length: 10_000 }, (_, i) => ({ key: `m${i}`, weight: 1 + (i % 256) }));
    const b = hashBuckets(ms, 65536);
    expect(b.length).toBe(65536);
    const c = count(b, ms.length);
    const heavy = c.filter((_, i) => ms[i]!.weight > 128).reduce((a, x) => a + x, 0);
    const light = c.filter((_, i) => ms[i]!.weight <= 128).reduce((a, x) => a + x, 0);
    // weights 129..256 hold about 3/4 of the total weight
    expect(heavy / (heavy + light)).toBeGreaterThan(0.7);
    expect(heavy / (heavy + light)).toBeLessThan(0.8);
  });
});
