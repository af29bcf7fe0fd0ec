import { describe, expect, it } from "vitest";
import { hopLimitFilter } from "./hop-limit-filter.js";

/** A tiny interpreter for the four opcodes the filter uses, over an IPv6 header (SKF_NET_OFF loads). */
function run(program: ReturnType<typeof hopLimitFilter>, ipv6Header: Uint8Array): number {
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const i = program[pc]!;
    if (i.code === 0x30) a = ipv6Header[(i.k | 0) + 0x100000]!;
    else if (i.code === 0x15) pc += a === i.k ? i.jt : i.jf;
    else if (i.code === 0x06) return i.k;
    else throw new Error(`opcode ${i.code}`);
  }
  throw new Error("fell off the end");
}

describe("the IPv6 hop-limit socket filter", () => {
  const header = (hopLimit: number) => {
    const h = new Uint8Array(40);
    h[0] = 0x60;
    h[6] = 112;
    h[7] = hopLimit;
    return h;
  };
  it("keeps hop limit 255 whole and drops every other value", () => {
    expect(run(hopLimitFilter(), header(255))).toBeGreaterThanOrEqual(0xffff);
    for (const hl of [0, 1, 64, 128, 254]) expect(run(hopLimitFilter(), header(hl))).toBe(0);
  });
  it("loads the Hop Limit byte relative to the network header (SKF_NET_OFF + 7)", () => {
    expect(hopLimitFilter()[0]).toEqual({ code: 0x30, jt: 0, jf: 0, k: (0xfff00000 + 7) >>> 0 });
  });
});
