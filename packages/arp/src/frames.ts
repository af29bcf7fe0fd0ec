// Pure builders and parsers for the frames a VIP owner sends: gratuitous ARP (RFC 5227 announcement, RFC 5944
// 4.6) and IPv6 unsolicited Neighbour Advertisement (RFC 4861 7.2.6). Bytes in, bytes out; no I/O.
import { formatIPv4, formatIPv6, type IpAddress, internetChecksum, pseudoHeader } from "@lbkit/core";
import { parseAddress } from "./address.js";
import { ArpConfigError, ArpError } from "./errors.js";
import { BROADCAST_MAC, formatMac, type MacLike, parseMac } from "./mac.js";

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ICMPV6_NS = 135;
export const ICMPV6_NA = 136;
/** ff02::1, all-nodes, and its Ethernet multicast 33:33:00:00:00:01. */
export const ALL_NODES = "ff02::1";
export const ALL_NODES_MAC = "33:33:00:00:00:01";

/** Gratuitous ARP form: request (what keepalived sends; RFC 5227 announcement) or reply (RFC 5944 4.6). */
export type GarpForm = "request" | "reply";

const ETH_HLEN = 14;
const ARP_LEN = 28;
const IPV6_HLEN = 40;
const NA_LEN = 24; // type, code, checksum, flags, reserved, target
const LLA_OPT_LEN = 8; // type 2, length 1 (8 octets), 6-byte MAC

function asAddress(a: string | IpAddress): IpAddress {
  return typeof a === "string" ? parseAddress(a) : a;
}

function ethernet(buf: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): void {
  buf.set(dst, 0);
  buf.set(src, 6);
  buf[12] = type >> 8;
  buf[13] = type & 0xff;
}

export interface GratuitousArpOptions {
  /** The MAC the segment should learn for the address (the interface's, or a VRRP virtual MAC). */
  mac: MacLike;
  /** The IPv4 address being announced. */
  address: string | IpAddress;
  /** Default "request". */
  form?: GarpForm;
}

/**
 * A 42-byte gratuitous ARP frame, Ethernet broadcast, sender IP = target IP = the address.
 * Request form: target MAC ff:ff:ff:ff:ff:ff, byte for byte what keepalived 2.2 sends.
 * Reply form: opcode 2 and target MAC = sender MAC (Linux treats a reply as gratuitous only then).
 */
export function buildGratuitousArp(opts: GratuitousArpOptions): Uint8Array {
  const mac = parseMac(opts.mac);
  const addr = asAddress(opts.address);
  if (addr.family !== 4) {
    throw new ArpError(
      "ERR_ADDRESS",
      `arp: address ${addr.text} is IPv6; gratuitous ARP is IPv4 only (use an NA)`,
    );
  }
  const form = opts.form ?? "request";
  if (form !== "request" && form !== "reply") {
    throw new ArpConfigError("form", form, 'must be "request" or "reply"');
  }
  const broadcast = parseMac(BROADCAST_MAC);
  const f = new Uint8Array(ETH_HLEN + ARP_LEN);
  ethernet(f, broadcast, mac, ETHERTYPE_ARP);
  const a = ETH_HLEN;
  f.set([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, form === "request" ? ARP_REQUEST : ARP_REPLY], a);
  f.set(mac, a + 8);
  f.set(addr.bytes, a + 14);
  f.set(form === "request" ? broadcast : mac, a + 18);
  f.set(addr.bytes, a + 24);
  return f;
}

/** Internet checksum (RFC 1071) of the ICMPv6 message over the IPv6 pseudo-header (RFC 8200 8.1). */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, message: Uint8Array): number {
  return internetChecksum(pseudoHeader(6, src, dst, 58, message.length), message);
}

export interface NaOptions {
  /** The MAC the segment should learn (carried as the Target Link-Layer Address option). */
  mac: MacLike;
  /** The IPv6 address being announced (the NA target). */
  address: string | IpAddress;
  /** IPv6 source; default the announced address itself (as keepalived does). */
  source?: string | IpAddress;
  /** Router flag; default false. Set it when the sender routes for this address. */
  router?: boolean;
}

/**
 * An 86-byte unsolicited Neighbour Advertisement: to ff02::1 (Ethernet 33:33:00:00:00:01), hop limit 255,
 * flags Override (Solicited clear, Router as asked), Target Link-Layer Address option, ICMPv6 checksum set.
 */
export function buildUnsolicitedNa(opts: NaOptions): Uint8Array {
  const mac = parseMac(opts.mac);
  const target = asAddress(opts.address);
  if (target.family !== 6) {
    throw new ArpError(
      "ERR_ADDRESS",
      `arp: address ${target.text} is IPv4; a neighbour advertisement is IPv6 only`,
    );
  }
  if (target.bytes[0] === 0xff) {
    throw new ArpError(
      "ERR_ADDRESS",
      `arp: address ${target.text} is multicast; only unicast addresses are announced`,
    );
  }
  const src = opts.source === undefined ? target : asAddress(opts.source);
  if (src.family !== 6)
    throw new ArpError("ERR_ADDRESS", `arp: NA source ${src.text} is not an IPv6 address`);
  const dst = parseAddress(ALL_NODES).bytes;
  const payload = NA_LEN + LLA_OPT_LEN;
  const f = new Uint8Array(ETH_HLEN + IPV6_HLEN + payload);
  ethernet(f, parseMac(ALL_NODES_MAC), mac, ETHERTYPE_IPV6);
  const ip = ETH_HLEN;
  f[ip] = 0x60; // version 6, traffic class 0, flow label 0
  f[ip + 4] = payload >> 8;
  f[ip + 5] = payload & 0xff;
  f[ip + 6] = 58; // ICMPv6
  f[ip + 7] = 255; // hop limit: receivers drop ND with anything else
  f.set(src.bytes, ip + 8);
  f.set(dst, ip + 24);
  const m = ip + IPV6_HLEN;
  f[m] = ICMPV6_NA;
  f[m + 1] = 0;
  f[m + 4] = (opts.router ? 0x80 : 0) | 0x20; // R, S=0, O=1
  f.set(target.bytes, m + 8);
  f[m + 24] = 2; // Target Link-Layer Address
  f[m + 25] = 1; // length in 8-octet units
  f.set(mac, m + 26);
  const sum = icmpv6Checksum(src.bytes, dst, f.subarray(m));
  f[m + 2] = sum >> 8;
  f[m + 3] = sum & 0xff;
  return f;
}

export interface ArpPacket {
  ethDst: string;
  ethSrc: string;
  /** 1 request, 2 reply (others as numbers). */
  opcode: number;
  op: "request" | "reply" | "other";
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
  /** Sender IP = target IP, and for a reply target MAC = sender MAC (Linux's test). */
  gratuitous: boolean;
}

function bad(what: string): never {
  throw new ArpError("ERR_FRAME", `arp: frame ${what}`);
}

function etherType(frame: Uint8Array): number {
  if (frame.length < ETH_HLEN) bad(`of ${frame.length} bytes is shorter than an Ethernet header`);
  return ((frame[12] ?? 0) << 8) | (frame[13] ?? 0);
}

/** Parses an Ethernet ARP frame for IPv4 (trailing padding allowed); throws ArpError EFRAME otherwise. */
export function parseArp(frame: Uint8Array): ArpPacket {
  const type = etherType(frame);
  if (type !== ETHERTYPE_ARP) bad(`has EtherType 0x${type.toString(16).padStart(4, "0")}, not ARP`);
  if (frame.length < ETH_HLEN + ARP_LEN) bad(`of ${frame.length} bytes is too short for ARP (42)`);
  const a = frame.subarray(ETH_HLEN);
  const htype = (a[0]! << 8) | a[1]!;
  const ptype = (a[2]! << 8) | a[3]!;
  if (htype !== 1 || ptype !== 0x0800 || a[4] !== 6 || a[5] !== 4) {
    bad(`is ARP for hardware ${htype} / protocol 0x${ptype.toString(16)}, not Ethernet / IPv4`);
  }
  const opcode = (a[6]! << 8) | a[7]!;
  const senderMac = formatMac(a.subarray(8, 14));
  const senderIp = formatIPv4(a.subarray(14, 18));
  const targetMac = formatMac(a.subarray(18, 24));
  const targetIp = formatIPv4(a.subarray(24, 28));
  const op = opcode === ARP_REQUEST ? "request" : opcode === ARP_REPLY ? "reply" : "other";
  const gratuitous =
    senderIp === targetIp && (op === "request" || (op === "reply" && targetMac === senderMac));
  return {
    ethDst: formatMac(frame.subarray(0, 6)),
    ethSrc: formatMac(frame.subarray(6, 12)),
    opcode,
    op,
    senderMac,
    senderIp,
    targetMac,
    targetIp,
    gratuitous,
  };
}

export interface NdpPacket {
  type: "ns" | "na";
  ethDst: string;
  ethSrc: string;
  ipSrc: string;
  ipDst: string;
  hopLimit: number;
  target: string;
  /** NA flags (false for NS). */
  router: boolean;
  solicited: boolean;
  override: boolean;
  /** Source / Target Link-Layer Address options, when present. */
  sourceLinkLayer?: string;
  targetLinkLayer?: string;
  checksum: number;
  checksumValid: boolean;
}

/** Parses an Ethernet IPv6 Neighbour Solicitation or Advertisement (no extension headers). */
export function parseNdp(frame: Uint8Array): NdpPacket {
  const type = etherType(frame);
  if (type !== ETHERTYPE_IPV6) bad(`has EtherType 0x${type.toString(16).padStart(4, "0")}, not IPv6`);
  if (frame.length < ETH_HLEN + IPV6_HLEN + NA_LEN) bad(`of ${frame.length} bytes is too short for NS/NA`);
  const ip = frame.subarray(ETH_HLEN);
  if (ip[0]! >> 4 !== 6) bad(`has IP version ${ip[0]! >> 4} in an IPv6 frame`);
  if (ip[6] !== 58) bad(`carries next header ${ip[6]}, not ICMPv6`);
  const plen = (ip[4]! << 8) | ip[5]!;
  if (IPV6_HLEN + plen > ip.length)
    bad(`claims an IPv6 payload of ${plen} bytes but has ${ip.length - IPV6_HLEN}`);
  const m = ip.subarray(IPV6_HLEN, IPV6_HLEN + plen);
  if (m[0] !== ICMPV6_NS && m[0] !== ICMPV6_NA) bad(`is ICMPv6 type ${m[0]}, not NS (135) or NA (136)`);
  if (m.length < NA_LEN) bad(`has an ICMPv6 message of ${m.length} bytes, too short for NS/NA (24)`);
  const src = ip.subarray(8, 24);
  const dst = ip.subarray(24, 40);
  const checksum = (m[2]! << 8) | m[3]!;
  const zeroed = Uint8Array.from(m);
  zeroed[2] = 0;
  zeroed[3] = 0;
  const isNa = m[0] === ICMPV6_NA;
  const pkt: NdpPacket = {
    type: isNa ? "na" : "ns",
    ethDst: formatMac(frame.subarray(0, 6)),
    ethSrc: formatMac(frame.subarray(6, 12)),
    ipSrc: formatIPv6(src),
    ipDst: formatIPv6(dst),
    hopLimit: ip[7]!,
    target: formatIPv6(m.subarray(8, 24)),
    router: isNa && (m[4]! & 0x80) !== 0,
    solicited: isNa && (m[4]! & 0x40) !== 0,
    override: isNa && (m[4]! & 0x20) !== 0,
    checksum,
    checksumValid: icmpv6Checksum(src, dst, zeroed) === checksum,
  };
  for (let o = NA_LEN; o + 2 <= m.length; ) {
    const len = m[o + 1]! * 8;
    if (len === 0 || o + len > m.length) bad(`has an ND option of bad length at offset ${o}`);
    if (len >= 8 && (m[o] === 1 || m[o] === 2)) {
      const lla = formatMac(m.subarray(o + 2, o + 8));
      if (m[o] === 1) pkt.sourceLinkLayer = lla;
      else pkt.targetLinkLayer = lla;
    }
    o += len;
  }
  return pkt;
}

export type ParsedFrame = ({ kind: "arp" } & ArpPacket) | ({ kind: "ndp" } & NdpPacket);

/** ARP or NS/NA from an Ethernet frame; undefined for anything else. */
export function parseFrame(frame: Uint8Array): ParsedFrame | undefined {
  try {
    const type = etherType(frame);
    if (type === ETHERTYPE_ARP) return { kind: "arp", ...parseArp(frame) };
    if (type === ETHERTYPE_IPV6) return { kind: "ndp", ...parseNdp(frame) };
  } catch (err) {
    if (err instanceof ArpError) return undefined;
    throw err;
  }
  return undefined;
}
