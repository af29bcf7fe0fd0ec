/** Pure IPv4 header build/parse for VRRP over a raw socket (keepalived builds its own: TOS 0xc0, TTL 255). */
import { formatIp, internetChecksum } from "@lbkit/core";
import { addressToBytes } from "./address.js";
import { VRRP_PROTOCOL, VRRP_TTL } from "./codec.js";

export interface Ipv4Options {
  src: string;
  dst: string;
  /** identification field; keepalived increments it per packet */
  id?: number;
  /** 0xc0 (network control precedence) as keepalived sends */
  tos?: number;
  ttl?: number;
  protocol?: number;
}

/** A 20-byte IPv4 header (no options, DF clear) followed by `payload`, header checksum filled in. */
export function encodeIpv4Packet(payload: Uint8Array, o: Ipv4Options): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  p[1] = o.tos ?? 0xc0;
  v.setUint16(2, p.length);
  v.setUint16(4, (o.id ?? 0) & 0xffff);
  p[8] = o.ttl ?? VRRP_TTL;
  p[9] = o.protocol ?? VRRP_PROTOCOL;
  p.set(addressToBytes(o.src), 12);
  p.set(addressToBytes(o.dst), 16);
  v.setUint16(10, internetChecksum(p.subarray(0, 20)));
  p.set(payload, 20);
  return p;
}

export interface Ipv4Packet {
  src: string;
  dst: string;
  ttl: number;
  tos: number;
  id: number;
  protocol: number;
  payload: Uint8Array;
}

/** Parses an IPv4 packet (as a raw IPv4 socket delivers it); undefined when it is not a whole IPv4 packet. */
export function decodeIpv4Packet(b: Uint8Array): Ipv4Packet | undefined {
  if (b.length < 20 || b[0]! >> 4 !== 4) return undefined;
  const ihl = (b[0]! & 0x0f) * 4;
  const total = (b[2]! << 8) | b[3]!;
  // Linux raw sockets hand back the total length as sent; trust the buffer when they disagree
  const end = total >= ihl && total <= b.length ? total : b.length;
  if (ihl < 20 || end < ihl) return undefined;
  return {
    tos: b[1]!,
    id: (b[4]! << 8) | b[5]!,
    ttl: b[8]!,
    protocol: b[9]!,
    src: formatIp(b, 4, 12),
    dst: formatIp(b, 4, 16),
    payload: b.subarray(ihl, end),
  };
}
