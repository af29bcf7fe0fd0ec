import { describe, expect, it } from "vitest";
import { copyOut, SHARED, SMALL_READ } from "./small-reads.js";

describe("copyOut", () => {
  it("copies the first n bytes of the shared buffer into a buffer of its own, at every size", () => {
    for (const n of [0, 1, 47, 180, 4095, 4096, 4097, 9000, SMALL_READ]) {
      for (let i = 0; i < n; i++) SHARED[i] = (i * 7 + n) & 0xff;
      const d = copyOut(n);
      expect(d.length).toBe(n);
      expect(Buffer.isBuffer(d)).toBe(true);
      expect(d.equals(SHARED.subarray(0, n))).toBe(true);
      // the next read into the shared buffer leaves the copy alone
      const before = Buffer.from(d);
      SHARED.fill(0xee, 0, n);
      expect(d.equals(before)).toBe(true);
    }
  });
  it("a size copied before gives a fresh copy each time (the cached view is of the shared buffer, not the copy)", () => {
    SHARED.write("first", "latin1");
    const a = copyOut(5);
    SHARED.write("again", "latin1");
    const b = copyOut(5);
    expect([a.toString("latin1"), b.toString("latin1")]).toEqual(["first", "again"]);
  });
});
