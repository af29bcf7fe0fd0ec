import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { Batch, type BatchedConn, type BatchNative } from "./batch-reads.js";

/** A stand-in addon: the batch's arena and table, and its report function, as the addon would hold them. */
function standIn() {
  const s = {
    report: (_n: number) => {},
    arena: new Uint8Array(0),
    table: new Int32Array(0) as Int32Array<ArrayBufferLike>,
    stopped: [] as unknown[],
  };
  const native = {
    binit(report: (n: number) => void, arena: ArrayBuffer, table: Int32Array) {
      s.report = report;
      s.arena = new Uint8Array(arena);
      s.table = table;
      return true;
    },
    bstart: (_fd: number, slot: number) => ({ slot }),
    bstop: (x: unknown) => s.stopped.push(x),
  } as unknown as BatchNative;
  return { s, batch: new Batch(native) };
}

function conn(onData?: (d: Buffer | number) => void) {
  const got: (string | number)[] = [];
  const c: BatchedConn = {
    batched(d) {
      onData?.(d);
      got.push(typeof d === "number" ? d : d.toString());
    },
    drained: () => got.push("drained"),
    shutDone: () => got.push("shut"),
    broken: (e) => got.push(`broken ${e}`),
    env: { clock: { enter() {}, exit() {} } },
  };
  return { c, got };
}

describe("Batch.dispatch", () => {
  it("hands each entry to its slot's connection, skips stopped ones, and finishes the batch when a handler throws", () => {
    const { s, batch } = standIn();
    const boom = new Error("boom");
    const a = conn(() => {
      throw boom;
    });
    const b = conn();
    const gone = conn();
    const sa = batch.attach(a.c, 10) as { slot: number };
    const sb = batch.attach(b.c, 11) as { slot: number };
    const sg = batch.attach(gone.c, 12) as { ext: unknown; slot: number };
    batch.detach(sg.ext, sg.slot);
    s.arena.set(Buffer.from("abc"), 0);
    s.arena.set(Buffer.from("de"), 8);
    // (slot, kind, offset, length): a's data, the stopped connection's entry (-1), b's data, b's EOF, DRAINED,
    // SHUT, a read error and a write error
    s.table.set([sa.slot, 1, 0, 3, -1, 1, 0, 3, sb.slot, 1, 8, 2, sb.slot, 2, 0, 0]);
    s.table.set([sb.slot, 4, 0, 0, sb.slot, 5, 0, 0, sb.slot, 6, 0, -104, sb.slot, 3, 0, -32], 16);
    expect(() => s.report(8)).toThrow(boom); // after the batch
    expect(b.got).toEqual(["de", 0, "drained", "shut", -104, "broken -32"]);
    expect(gone.got).toEqual([]);
    expect(s.stopped).toEqual([sg.ext]);
    // a stopped connection's slot is free again at once
    const again = batch.attach(conn().c, 13) as { slot: number };
    expect(again.slot).toBe(sg.slot);
  });
});
