import { formatIPv4, formatIPv6 } from "@lbkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readPcap } from "../../../test/lab/pcap.js";
import { vrrpVector } from "../../../test/lab/vectors.js";
import { ArpError } from "./errors.js";
import {
  buildGratuitousArp,
  buildUnsolicitedNa,
  icmpv6Checksum,
  parseArp,
  parseFrame,
  parseNdp,
} from "./frames.js";
import { formatMac } from "./mac.js";

// keepalived 2.2.7's GARPs on becoming master (see the vectors' README)
const VECTOR = vrrpVector("ref_garp_become_master.pcap");

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("gratuitous ARP", () => {
  it("request form is byte for byte what keepalived 2.2.7 sends", () => {
    const pcap = readPcap(VECTOR);
    expect(pcap.linkType).toBe(1);
    const garps = pcap.records.filter((r) => {
      const p = parseFrame(r.data);
      return p?.kind === "arp" && p.gratuitous;
    });
    // 5 at takeover and 5 more 5 s later (garp_master_delay); ordinary ARP traffic in between is not GARP
    expect(garps.length).toBe(10);
    const ours = buildGratuitousArp({ mac: "02:77:00:00:00:11", address: "10.77.0.200", form: "request" });
    for (const g of garps) expect(hex(g.data)).toBe(hex(ours));
    expect(ours.length).toBe(42);
  });

  it("reply form: opcode 2, target MAC = sender MAC, broadcast destination", () => {
    const f = buildGratuitousArp({ mac: "02:00:00:00:00:0a", address: "198.18.0.100", form: "reply" });
    expect(hex(f)).toBe(
      "ffffffffffff" +
        "02000000000a" +
        "0806" +
        "0001" +
        "0800" +
        "06" +
        "04" +
        "0002" +
        "02000000000a" +
        "c6120064" +
        "02000000000a" +
        "c6120064",
    );
    const p = parseArp(f);
    expect(p).toMatchObject({ op: "reply", opcode: 2, gratuitous: true, ethDst: "ff:ff:ff:ff:ff:ff" });
    expect(p.senderIp).toBe(p.targetIp);
  });

  it("refuses IPv6 addresses and bad MACs with the value named", () => {
    expect(() => buildGratuitousArp({ mac: "02:00:00:00:00:01", address: "2001:db8::1" })).toThrow(
      /address 2001:db8::1 is IPv6/,
    );
    expect(() => buildGratuitousArp({ mac: "02:00:00:00:01", address: "198.18.0.1" })).toThrow(
      /MAC address "02:00:00:00:01" is not 6 bytes/,
    );
  });

  it("parses ordinary ARP from the keepalived capture (a request that is not gratuitous)", () => {
    const pcap = readPcap(VECTOR!);
    const normal = pcap.records.map((r) => parseArp(r.data)).find((p) => !p.gratuitous)!;
    expect(normal).toMatchObject({ op: "request", senderIp: "10.77.0.11", targetIp: "10.77.0.100" });
    expect(normal.targetMac).toBe("00:00:00:00:00:00");
  });

  it("rejects frames that are not Ethernet/IPv4 ARP", () => {
    const f = buildGratuitousArp({ mac: "02:00:00:00:00:0a", address: "198.18.0.100" });
    expect(() => parseArp(f.subarray(0, 30))).toThrow(ArpError);
    const wrongType = Uint8Array.from(f);
    wrongType[13] = 0x00;
    expect(() => parseArp(wrongType)).toThrow(/EtherType 0x0800, not ARP/);
    expect(parseFrame(wrongType)).toBeUndefined();
    // 60-byte frames (padded by a NIC) still parse
    const padded = new Uint8Array(60);
    padded.set(f);
    expect(parseArp(padded).gratuitous).toBe(true);
  });
});

describe("unsolicited neighbour advertisement", () => {
  const mac = "02:00:00:00:00:0a";
  const na = buildUnsolicitedNa({ mac, address: "2001:db8::100" });

  it("goes to ff02::1 / 33:33:00:00:00:01 with hop limit 255, Override set, Solicited clear, TLLA option", () => {
    expect(na.length).toBe(14 + 40 + 24 + 8);
    const p = parseNdp(na);
    expect(p).toMatchObject({
      type: "na",
      ethDst: "33:33:00:00:00:01",
      ethSrc: mac,
      ipSrc: "2001:db8::100",
      ipDst: "ff02::1",
      hopLimit: 255,
      target: "2001:db8::100",
      router: false,
      solicited: false,
      override: true,
      targetLinkLayer: mac,
      checksumValid: true,
    });
    // IPv6 header: version 6, payload 32, next header 58
    expect(hex(na.subarray(14, 22))).toBe("6000000000203aff");
    // ICMPv6: type 136 code 0, flags 0x20 (O)
    expect(na[54]).toBe(136);
    expect(na[55]).toBe(0);
    expect(na[58]).toBe(0x20);
    expect(hex(na.subarray(78, 86))).toBe(`0201${mac.replaceAll(":", "")}`);
  });

  it("has a checksum that sums to 0xffff over pseudo-header and message (RFC 1071 verification)", () => {
    const src = na.subarray(22, 38);
    const dst = na.subarray(38, 54);
    const msg = na.subarray(54);
    // recomputing with the checksum in place must give 0
    expect(icmpv6Checksum(src, dst, msg)).toBe(0);
    // a flipped bit is caught
    const broken = Uint8Array.from(na);
    broken[70] = (broken[70] ?? 0) ^ 0x01;
    expect(parseNdp(broken).checksumValid).toBe(false);
  });

  it("sets the Router flag on request and uses a given source address", () => {
    const p = parseNdp(buildUnsolicitedNa({ mac, address: "2001:db8::1", source: "fe80::1", router: true }));
    expect(p).toMatchObject({ router: true, override: true, ipSrc: "fe80::1", checksumValid: true });
  });

  it("refuses IPv4 and multicast targets", () => {
    expect(() => buildUnsolicitedNa({ mac, address: "198.18.0.1" })).toThrow(/is IPv4/);
    expect(() => buildUnsolicitedNa({ mac, address: "ff02::1" })).toThrow(/multicast/);
  });

  it("parses a neighbour solicitation with a Source Link-Layer Address option", () => {
    // NS from 2001:db8::11 for 2001:db8::100 to its solicited-node group, built by hand
    const src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11];
    const dst = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0x01, 0x00];
    const target = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00];
    const msg = new Uint8Array([135, 0, 0, 0, 0, 0, 0, 0, ...target, 1, 1, 2, 0, 0, 0, 0, 0x11]);
    const sum = icmpv6Checksum(Uint8Array.from(src), Uint8Array.from(dst), msg);
    msg[2] = sum >> 8;
    msg[3] = sum & 0xff;
    const frame = new Uint8Array([
      ...[0x33, 0x33, 0xff, 0, 0x01, 0x00, 2, 0, 0, 0, 0, 0x11, 0x86, 0xdd],
      ...[0x60, 0, 0, 0, 0, msg.length, 58, 255, ...src, ...dst],
      ...msg,
    ]);
    const p = parseNdp(frame);
    expect(p).toMatchObject({
      type: "ns",
      target: "2001:db8::100",
      ipDst: "ff02::1:ff00:100",
      sourceLinkLayer: "02:00:00:00:00:11",
      override: false,
      checksumValid: true,
    });
    expect(parseFrame(frame)?.kind).toBe("ndp");
  });

  it("rejects IPv6 frames that are not NS/NA", () => {
    const echo = Uint8Array.from(na);
    echo[54] = 128;
    expect(() => parseNdp(echo)).toThrow(/ICMPv6 type 128, not NS/);
    expect(() => parseNdp(na.subarray(0, 60))).toThrow(ArpError);
  });
});

describe("round trips (property)", () => {
  const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => {
    b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
    return b;
  });
  it("GARP request/reply parse back to what was built", () => {
    fc.assert(
      fc.property(macArb, fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.boolean(), (mac, ip, reply) => {
        const address = formatIPv4(ip);
        const form = reply ? "reply" : "request";
        const p = parseArp(buildGratuitousArp({ mac, address, form }));
        expect(p).toMatchObject({ senderIp: address, targetIp: address, op: form, gratuitous: true });
        expect(p.senderMac).toBe(formatMac(mac));
      }),
    );
  });
  it("NAs parse back with a valid checksum for any unicast target", () => {
    fc.assert(
      fc.property(macArb, fc.uint8Array({ minLength: 16, maxLength: 16 }), (mac, ip) => {
        ip[0] = ip[0] === 0xff ? 0x20 : ip[0]!;
        const address = formatIPv6(ip);
        const p = parseNdp(buildUnsolicitedNa({ mac, address }));
        expect(p.checksumValid).toBe(true);
        expect(p.target).toBe(address);
        expect(p.targetLinkLayer).toBe(formatMac(mac));
      }),
    );
  });
});
