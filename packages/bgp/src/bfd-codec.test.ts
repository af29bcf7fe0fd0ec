import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { controlPacket } from "../test/support.js";
import { BFD_DIAGS, BFD_STATES, type BfdPacket, decodeBfd, encodeBfd } from "./bfd-codec.js";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const packet: fc.Arbitrary<BfdPacket> = fc.record({
  version: fc.constant(1),
  diag: fc.constantFrom(...BFD_DIAGS),
  state: fc.constantFrom(...BFD_STATES),
  poll: fc.boolean(),
  final: fc.boolean(),
  controlPlaneIndependent: fc.boolean(),
  authPresent: fc.constant(false),
  demand: fc.boolean(),
  multipoint: fc.constant(false),
  detectMult: fc.integer({ min: 1, max: 255 }),
  myDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
  yourDiscriminator: u32,
  desiredMinTxInterval: u32,
  requiredMinRxInterval: u32,
  requiredMinEchoRxInterval: u32,
});

describe("BFD codec", () => {
  it("round-trips every valid packet", () => {
    fc.assert(
      fc.property(packet, (p) => {
        expect(decodeBfd(encodeBfd(p))).toEqual({ ok: true, packet: p });
      }),
      { numRuns: 300 },
    );
  });

  it("decodes RFC 5880 §4.1 bytes as FRR sends them (Down, mult 3, 1 s tx, 300 ms rx)", () => {
    const bytes = Buffer.from("204003180000000100000000000f4240000493e000000000", "hex");
    const d = decodeBfd(bytes);
    expect(d.ok && d.packet).toMatchObject({
      state: "Down",
      diag: "none",
      detectMult: 3,
      myDiscriminator: 1,
      yourDiscriminator: 0,
      desiredMinTxInterval: 1_000_000,
      requiredMinRxInterval: 300_000,
    });
  });

  it("rejects what §6.8.6 discards without a session", () => {
    const good = encodeBfd(controlPacket({}, 1_000_000));
    const edit = (i: number, v: number) => {
      const b = Uint8Array.from(good);
      b[i] = v;
      return b;
    };
    expect(decodeBfd(good.subarray(0, 23))).toEqual({ ok: false, error: "short" });
    expect(decodeBfd(edit(0, 0x40))).toEqual({ ok: false, error: "version" });
    expect(decodeBfd(edit(3, 20))).toEqual({ ok: false, error: "length" });
    expect(decodeBfd(edit(3, 40))).toEqual({ ok: false, error: "length" });
    expect(decodeBfd(edit(2, 0))).toEqual({ ok: false, error: "detect-mult-zero" });
    expect(decodeBfd(edit(1, 0x41))).toEqual({ ok: false, error: "multipoint" });
    expect(decodeBfd(edit(7, 0))).toEqual({ ok: false, error: "my-discriminator-zero" });
  });
});
