import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DueQueue } from "./due-queue.js";

interface N {
  key: number;
  seq: number;
  heapPos: number;
}

describe("DueQueue", () => {
  it("property: comes out in key order however keys arrive, with removes and re-keys between", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("push" as const), key: fc.integer({ min: 0, max: 50 }) }),
            fc.record({ op: fc.constant("pushAfter" as const), by: fc.integer({ min: 0, max: 5 }) }),
            fc.record({ op: fc.constant("take" as const) }),
            fc.record({ op: fc.constant("remove" as const), pick: fc.nat() }),
            fc.record({
              op: fc.constant("rekey" as const),
              pick: fc.nat(),
              key: fc.integer({ min: 0, max: 60 }),
            }),
          ),
          { maxLength: 300 },
        ),
        (ops) => {
          const before = (a: N, b: N) => a.key < b.key || (a.key === b.key && a.seq < b.seq);
          const q = new DueQueue<N>(before);
          const model: N[] = [];
          let seq = 0;
          let lastKey = 0;
          const min = () => [...model].sort((a, b) => (before(a, b) ? -1 : 1))[0];
          for (const o of ops) {
            if (o.op === "push" || o.op === "pushAfter") {
              const key = o.op === "push" ? o.key : lastKey + o.by; // mostly in order, as checks come back
              lastKey = key;
              const n = { key, seq: ++seq, heapPos: -1 };
              q.push(n);
              model.push(n);
            } else if (o.op === "take") {
              const n = q.peek();
              expect(n).toBe(min());
              if (n) {
                q.remove(n);
                model.splice(model.indexOf(n), 1);
                expect(n.heapPos).toBe(-1);
              }
            } else if (model.length > 0) {
              const n = model[o.pick % model.length]!;
              if (o.op === "remove") {
                q.remove(n);
                q.remove(n); // twice: a no-op
                model.splice(model.indexOf(n), 1);
              } else {
                n.key = o.key;
                n.seq = ++seq;
                q.update(n);
              }
            }
            expect(q.size).toBe(model.length);
            expect(q.peek()).toBe(min());
          }
          // drain: everything comes out, in order
          const out: N[] = [];
          for (let n = q.peek(); n; n = q.peek()) {
            q.remove(n);
            out.push(n);
          }
          expect(out).toEqual([...model].sort((a, b) => (before(a, b) ? -1 : 1)));
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 200) },
    );
  }, 20_000);

  it("compacts its run: 100,000 in-order pushes and takes keep memory bounded and order exact", () => {
    const q = new DueQueue<N>((a, b) => a.key < b.key);
    const internal = q as unknown as { run: unknown[] };
    let taken = 0;
    for (let i = 0; i < 100_000; i++) {
      q.push({ key: i, seq: i, heapPos: -1 });
      if (i % 10 === 9) {
        for (let k = 0; k < 9; k++) {
          const n = q.peek()!;
          if (n.key !== taken++) expect(n.key).toBe(taken - 1);
          q.remove(n);
        }
      }
    }
    expect(q.size).toBe(10_000);
    expect(internal.run.length).toBeLessThan(25_000);
  });
});
