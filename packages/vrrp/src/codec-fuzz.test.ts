// A bounded fuzz of the receive path over mutated valid packets (issue 10): keepalived 2.2.7's captured adverts
// (shared/vectors/vrrp) with bytes flipped, cut, extended and overwritten, as IPv4 and as IPv6, through the codec
// and the receive policy. Never a throw; every result is a decoded advert that re-encodes to itself, or a
// discard reason from the closed list.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { internetChecksum, pseudoHeader } from "@lbkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readPcap } from "../../../test/lab/pcap.js";
import { vrrpVectorsDir } from "../../../test/lab/vectors.js";
import { addressToBytes } from "./address.js";
import { screenAdvert } from "./advert-policy.js";
import {
  type DiscardReason,
  decodeAdvert,
  encodeAdvert,
  type ReceivedPacket,
  validateAdvert,
} from "./codec.js";
import { decodeIpv4Packet } from "./ipv4.js";

const REASONS: readonly DiscardReason[] = [
  "truncated",
  "ttl",
  "version",
  "type",
  "length",
  "checksum",
  "vrid",
  "auth",
  "interval",
  "family",
  "addresses",
  "owner-conflict",
];

const dir = vrrpVectorsDir();
const seeds = readdirSync(dir)
  .filter((f) => f.endsWith(".pcap"))
  .flatMap((f) => readPcap(join(dir, f)).records)
  .map((r) => r.data)
  .filter((d) => d.length > 34 && d[12] === 0x08 && d[13] === 0x00)
  .map((d) => decodeIpv4Packet(d.subarray(14)))
  .filter((p) => p !== undefined && p.protocol === 112)
  .map((p) => ({ src: p!.src, dst: p!.dst, ttl: p!.ttl, message: p!.payload.slice() }));

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "cut"; at: number }
  | { kind: "extend"; bytes: number[] };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(63), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(63), value: fc.nat(255) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat(63) }),
  fc.record({ kind: fc.constant("extend" as const), bytes: fc.array(fc.nat(255), { maxLength: 40 }) }),
);

function mutate(m: Uint8Array, ops: Mutation[]): Uint8Array {
  let out = m.slice();
  for (const op of ops) {
    if (op.kind === "flip" && out.length > 0) out[op.at % out.length]! ^= 1 << op.bit;
    else if (op.kind === "set" && out.length > 0) out[op.at % out.length] = op.value;
    else if (op.kind === "cut") out = out.slice(0, op.at % (out.length + 1));
    else if (op.kind === "extend") out = Uint8Array.from([...out, ...op.bytes]);
  }
  return out;
}

/** Rewrites the checksum so a mutation reaches the checks behind it (VRID, auth, interval, addresses). */
function fixChecksum(m: Uint8Array, p: { src: string; dst: string }): Uint8Array {
  if (m.length < 8) return m;
  const out = m.slice();
  out[6] = 0;
  out[7] = 0;
  const sum =
    out[0]! >> 4 === 3
      ? internetChecksum(pseudoHeader(4, addressToBytes(p.src), addressToBytes(p.dst), 112, out.length), out)
      : internetChecksum(out);
  out[6] = sum >> 8;
  out[7] = sum & 0xff;
  return out;
}

function check(packet: ReceivedPacket, vrid: number, version: 2 | 3) {
  for (const r of [
    decodeAdvert(packet),
    validateAdvert(packet, { version, vrid, advertInterval: version === 2 ? 1000 : undefined }),
    validateAdvert(packet, { version, vrid, authPassword: "secret", ignoreTtl: true }),
  ]) {
    if (!r.ok) {
      expect(REASONS).toContain(r.reason);
      expect(r.detail).toMatch(/^vrrp: /);
      continue;
    }
    const a = r.advert;
    expect(a.addresses).toHaveLength(packet.message[3]!);
    expect(a.priority).toBeGreaterThanOrEqual(0);
    expect(a.priority).toBeLessThanOrEqual(255);
    // a valid advert survives encode → decode unchanged
    const again = decodeAdvert({ ...packet, message: encodeAdvert(a, packet) });
    expect(again).toEqual({ ok: true, advert: a });
    for (const priority of [100, 255])
      expect(() => screenAdvert({ vips: ["198.18.0.200"], priority }, packet.src, a)).not.toThrow();
  }
}

describe("VRRP codec fuzz (bounded)", () => {
  it("has seeds: every VRRP advert in the keepalived captures", () => {
    expect(seeds.length).toBeGreaterThanOrEqual(5);
  });

  it("mutated IPv4 adverts: never a throw; decoded-valid or a discard reason", { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(255, 254, 64, 1, undefined),
        fc.boolean(),
        (i, ops, ttl, fix) => {
          const s = seeds[i]!;
          const mutated = mutate(s.message, ops);
          const message = fix ? fixChecksum(mutated, s) : mutated;
          const version = (s.message[0]! >> 4) as 2 | 3;
          check({ family: 4, src: s.src, dst: s.dst, ttl, message }, s.message[1]!, version === 2 ? 2 : 3);
        },
      ),
      { numRuns: 10_000, seed: 10, endOnFailure: true },
    );
  });

  it("the same bytes as IPv6 payloads, and random bytes: never a throw", { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc
            .tuple(fc.nat(seeds.length - 1), fc.array(mutation, { maxLength: 6 }))
            .map(([i, ops]) => mutate(seeds[i]!.message, ops)),
          fc.uint8Array({ maxLength: 120 }),
        ),
        (message) => {
          check({ family: 6, src: "fe80::1", dst: "ff02::12", ttl: 255, message }, message[1] ?? 0, 3);
          check({ family: 4, src: "198.18.0.1", dst: "224.0.0.18", message }, message[1] ?? 0, 2);
        },
      ),
      { numRuns: 10_000, seed: 11, endOnFailure: true },
    );
  });
});
