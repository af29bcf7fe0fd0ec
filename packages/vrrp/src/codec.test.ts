import { readdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readPcap } from "../../../test/lab/pcap.js";
import { vrrpVectorsDir } from "../../../test/lab/vectors.js";
import { canonicalAddress } from "./address.js";
import { type Advert, decodeAdvert, encodeAdvert, passwordAuthData, validateAdvert } from "./codec.js";
import { decodeIpv4Packet, encodeIpv4Packet } from "./ipv4.js";

const VECTORS = vrrpVectorsDir();

/** The IPv4 packet inside an Ethernet II frame of type 0x0800, else undefined. */
function ipv4OfFrame(frame: Uint8Array): Uint8Array | undefined {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) return undefined;
  return frame.subarray(14);
}

function vrrpPackets(file: string) {
  return readPcap(join(VECTORS, file))
    .records.map((r) => ipv4OfFrame(r.data))
    .filter((p): p is Uint8Array => p !== undefined)
    .map((p) => decodeIpv4Packet(p)!)
    .filter((p) => p.protocol === 112);
}

function received(p: NonNullable<ReturnType<typeof decodeIpv4Packet>>) {
  return { family: 4 as const, src: p.src, dst: p.dst, ttl: p.ttl, message: p.payload };
}

describe("keepalived 2.2.7 reference frames", () => {
  it("decodes the v2 advert: vrid 77, priority 150, 1 VIP, 1 s, no auth", () => {
    const [p] = vrrpPackets("ref_vrrpv2_advert.pcap");
    const r = validateAdvert(received(p!), { version: 2, vrid: 77, advertInterval: 1000 });
    expect(r).toMatchObject({
      ok: true,
      advert: {
        version: 2,
        vrid: 77,
        priority: 150,
        advertInterval: 1000,
        addresses: ["10.77.0.200"],
        authType: 0,
      },
    });
    expect(p).toMatchObject({ ttl: 255, tos: 0xc0, src: "10.77.0.11", dst: "224.0.0.18" });
  });

  it("checks the v2 PASS password (NUL-padded to 8 bytes)", () => {
    const [p] = vrrpPackets("ref_vrrpv2_advert_authpass.pcap");
    const ok = validateAdvert(received(p!), { version: 2, vrid: 77, authPassword: "s3cr3t" });
    expect(ok.ok && ok.advert.authType).toBe(1);
    expect(ok.ok && [...ok.advert.authData!]).toEqual([...passwordAuthData("s3cr3t")]);
    expect(validateAdvert(received(p!), { version: 2, vrid: 77, authPassword: "wrong" })).toMatchObject({
      ok: false,
      reason: "auth",
    });
    expect(validateAdvert(received(p!), { version: 2, vrid: 77 })).toMatchObject({
      ok: false,
      reason: "auth",
    });
  });

  it("decodes the v2 and v3 priority-0 adverts", () => {
    const [v2] = vrrpPackets("ref_vrrpv2_prio0.pcap");
    const [v3] = vrrpPackets("ref_vrrpv3_prio0.pcap");
    expect(validateAdvert(received(v2!), { version: 2, vrid: 77 })).toMatchObject({
      ok: true,
      advert: { priority: 0 },
    });
    expect(validateAdvert(received(v3!), { version: 3, vrid: 77 })).toMatchObject({
      ok: true,
      advert: { version: 3, priority: 0, advertInterval: 100, addresses: ["10.77.0.200"] },
    });
  });

  const files = readdirSync(VECTORS).filter((f) => f.endsWith(".pcap"));
  it.each(files)("re-encodes every VRRP packet of %s byte-identically (IP ID carried over)", (file) => {
    const packets = vrrpPackets(file);
    for (const p of packets) {
      const r = decodeAdvert(received(p));
      expect(r.ok, `${file}: ${!r.ok && r.detail}`).toBe(true);
      if (!r.ok) continue;
      const msg = encodeAdvert(r.advert, { src: p.src, dst: p.dst });
      const whole = encodeIpv4Packet(msg, { src: p.src, dst: p.dst, id: p.id, tos: p.tos, ttl: p.ttl });
      const original = vrrpPackets(file)[packets.indexOf(p)]!;
      expect(Buffer.from(msg).toString("hex")).toBe(Buffer.from(original.payload).toString("hex"));
      expect(whole.length).toBe(20 + msg.length);
      expect(decodeIpv4Packet(whole)).toMatchObject({
        src: p.src,
        dst: p.dst,
        ttl: 255,
        tos: 0xc0,
        id: p.id,
      });
    }
  });

  it("rebuilds keepalived's whole IPv4 packet (header checksum included)", () => {
    const raw = readPcap(join(VECTORS, "ref_vrrpv3_prio0.pcap")).records[0]!.data.subarray(14);
    const p = decodeIpv4Packet(raw)!;
    const r = decodeAdvert(received(p));
    if (!r.ok) throw new Error(r.detail);
    const again = encodeIpv4Packet(encodeAdvert(r.advert, p), { src: p.src, dst: p.dst, id: p.id });
    expect(Buffer.from(again).toString("hex")).toBe(Buffer.from(raw).toString("hex"));
  });
});

describe("receive validation (RFC 5798 §7.1)", () => {
  const ip = { src: "198.18.0.1", dst: "224.0.0.18" };
  const base: Advert = {
    version: 3,
    vrid: 9,
    priority: 100,
    advertInterval: 1000,
    addresses: ["198.18.0.100"],
  };
  const pkt = (message: Uint8Array, ttl = 255) => ({ family: 4 as const, ...ip, ttl, message });

  it("rejects a TTL other than 255", () => {
    expect(validateAdvert(pkt(encodeAdvert(base, ip), 64), { version: 3, vrid: 9 })).toMatchObject({
      ok: false,
      reason: "ttl",
    });
  });
  it("rejects the other version, a foreign VRID, a bad checksum, a short message", () => {
    const m = encodeAdvert(base, ip);
    expect(validateAdvert(pkt(m), { version: 2, vrid: 9 })).toMatchObject({ reason: "version" });
    expect(validateAdvert(pkt(m), { version: 3, vrid: 10 })).toMatchObject({ reason: "vrid" });
    const bad = m.slice();
    bad[2] = 99;
    expect(validateAdvert(pkt(bad), { version: 3, vrid: 9 })).toMatchObject({ reason: "checksum" });
    const short = m.slice();
    short[3] = 2;
    expect(validateAdvert(pkt(short), { version: 3, vrid: 9 })).toMatchObject({ reason: "length" });
    expect(validateAdvert(pkt(m.subarray(0, 5)), { version: 3, vrid: 9 })).toMatchObject({
      reason: "truncated",
    });
  });
  it("v3 checksum covers the pseudo-header: a different source fails it", () => {
    const m = encodeAdvert(base, ip);
    expect(validateAdvert({ ...pkt(m), src: "198.18.0.2" }, { version: 3, vrid: 9 })).toMatchObject({
      reason: "checksum",
    });
  });
  it("v2 discards an advert interval other than the configured one; v3 accepts (it learns)", () => {
    const v2: Advert = { ...base, version: 2, advertInterval: 2000 };
    expect(
      validateAdvert(pkt(encodeAdvert(v2, ip)), { version: 2, vrid: 9, advertInterval: 1000 }),
    ).toMatchObject({
      reason: "interval",
    });
    expect(validateAdvert(pkt(encodeAdvert(base, ip)), { version: 3, vrid: 9, advertInterval: 50 }).ok).toBe(
      true,
    );
  });
  it("v2 over IPv6 is refused", () => {
    const six = { src: "fe80::1", dst: "ff02::12" };
    const m = encodeAdvert({ ...base, addresses: ["2001:db8::1"] }, six);
    m[0] = 0x21;
    expect(decodeAdvert({ family: 6, ...six, message: m })).toMatchObject({ reason: "family" });
  });
});

describe("round trips (fast-check)", () => {
  const ipv4 = fc.ipV4();
  const ipv6 = fc.ipV6();
  it("v3 IPv4 and IPv6 adverts survive encode → decode", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 1, max: 4095 }),
        fc.array(ipv4, { minLength: 1, maxLength: 20 }),
        fc.array(ipv6, { minLength: 1, maxLength: 20 }),
        (six, vrid, priority, cs, v4s, v6s) => {
          const ip = six ? { src: "fe80::1", dst: "ff02::12" } : { src: "198.18.0.1", dst: "224.0.0.18" };
          const addresses = six ? v6s : v4s;
          const a: Advert = { version: 3, vrid, priority, advertInterval: cs * 10, addresses };
          const r = validateAdvert(
            { family: six ? 6 : 4, ...ip, ttl: 255, message: encodeAdvert(a, ip) },
            { version: 3, vrid },
          );
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(r.advert.priority).toBe(priority);
          expect(r.advert.advertInterval).toBe(cs * 10);
          expect(r.advert.addresses).toEqual(addresses.map(canonicalAddress));
          // re-encoding the decoded advert gives the same bytes
          expect(Buffer.from(encodeAdvert(r.advert, ip))).toEqual(Buffer.from(encodeAdvert(a, ip)));
        },
      ),
    );
  });
  it("v2 adverts with and without a password survive encode → decode", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 255 }),
        fc.array(ipv4, { minLength: 1, maxLength: 20 }),
        fc.option(
          fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.includes("\0")),
          { nil: undefined },
        ),
        (vrid, secs, addresses, password) => {
          const ip = { src: "198.18.0.1", dst: "224.0.0.18" };
          const a: Advert = {
            version: 2,
            vrid,
            priority: 100,
            advertInterval: secs * 1000,
            addresses,
            authType: password === undefined ? 0 : 1,
            authData: password === undefined ? undefined : passwordAuthData(password),
          };
          const r = validateAdvert(
            { family: 4, ...ip, ttl: 255, message: encodeAdvert(a, ip) },
            { version: 2, vrid, advertInterval: secs * 1000, authPassword: password },
          );
          expect(r).toMatchObject({ ok: true, advert: { vrid, advertInterval: secs * 1000, addresses } });
        },
      ),
    );
  });
  it("any single flipped bit is caught (checksum or a field check)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 * 8 - 1 }), (bit) => {
        const ip = { src: "198.18.0.1", dst: "224.0.0.18" };
        const a: Advert = {
          version: 3,
          vrid: 5,
          priority: 100,
          advertInterval: 100,
          addresses: ["198.18.0.9"],
        };
        const m = encodeAdvert({ ...a, addresses: ["198.18.0.9", "198.18.0.10", "198.18.0.11"] }, ip);
        m[bit >> 3] = m[bit >> 3]! ^ (1 << (bit & 7));
        const r = validateAdvert({ family: 4, ...ip, ttl: 255, message: m }, { version: 3, vrid: 5 });
        expect(r.ok).toBe(false);
      }),
    );
  });
});
