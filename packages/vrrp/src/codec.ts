/**
 * Pure VRRP codec: adverts ⇄ bytes for RFC 3768 (v2) and RFC 5798 (v3), IPv4 and IPv6, with checksums and the
 * receive checks of RFC 5798 §7.1 / RFC 3768 §7.1 returning typed reasons.
 */
import { type Family, formatIp, internetChecksum, pseudoHeader } from "@lbkit/core";
import { addressToBytes } from "./address.js";

export const VRRP_PROTOCOL = 112;
export const VRRP_GROUP_V4 = "224.0.0.18";
export const VRRP_GROUP_V6 = "ff02::12";
export const VRRP_TTL = 255;
export const VRRP_TYPE_ADVERTISEMENT = 1;

export type VrrpVersion = 2 | 3;

/** RFC 3768 authentication types; keepalived's `auth_type PASS` is 1. AH (2) is not supported. */
export const AuthType = { none: 0, simple: 1, ah: 2 } as const;

export interface Advert {
  version: VrrpVersion;
  vrid: number;
  /** 0 = the master is leaving, 255 = the address owner */
  priority: number;
  /** advertisement interval in ms: whole seconds on the wire for v2, centiseconds (12 bits) for v3 */
  advertInterval: number;
  /** the virtual addresses, canonical text */
  addresses: string[];
  /** v2 only: 0 none, 1 simple text password */
  authType?: number;
  /** v2 only: the 8 authentication bytes (a PASS is NUL-padded) */
  authData?: Uint8Array;
}

export interface AddressPair {
  /** IP source (the sender's primary address on the interface; link-local for IPv6) */
  src: string;
  /** IP destination (224.0.0.18, ff02::12, or a unicast peer) */
  dst: string;
}

/** An 8-byte simple-text auth field the way keepalived writes `auth_pass`: truncated/NUL-padded to 8. */
export function passwordAuthData(password: string): Uint8Array {
  const out = new Uint8Array(8);
  out.set(new TextEncoder().encode(password).subarray(0, 8));
  return out;
}

function addressSize(family: Family): number {
  return family === 4 ? 4 : 16;
}

/** Length in bytes of a VRRP message carrying `count` addresses. */
export function messageLength(version: VrrpVersion, family: Family, count: number): number {
  return 8 + count * addressSize(family) + (version === 2 ? 8 : 0);
}

/**
 * Encodes the VRRP message (no IP header) with its checksum: over the message alone for v2, over the
 * IPv4/IPv6 pseudo-header and the message for v3 (so v3 needs the IP source and destination).
 */
export function encodeAdvert(advert: Advert, ip: AddressPair): Uint8Array {
  const family: Family = ip.src.includes(":") ? 6 : 4;
  const n = advert.addresses.length;
  const msg = new Uint8Array(messageLength(advert.version, family, n));
  msg[0] = (advert.version << 4) | VRRP_TYPE_ADVERTISEMENT;
  msg[1] = advert.vrid;
  msg[2] = advert.priority;
  msg[3] = n;
  if (advert.version === 2) {
    msg[4] = advert.authType ?? AuthType.none;
    msg[5] = Math.round(advert.advertInterval / 1000) & 0xff;
  } else {
    const cs = Math.round(advert.advertInterval / 10) & 0x0fff;
    msg[4] = cs >> 8;
    msg[5] = cs & 0xff;
  }
  advert.addresses.forEach((a, i) => {
    msg.set(addressToBytes(a), 8 + i * addressSize(family));
  });
  if (advert.version === 2 && advert.authData) msg.set(advert.authData.subarray(0, 8), 8 + n * 4);
  const sum =
    advert.version === 2
      ? internetChecksum(msg)
      : internetChecksum(
          pseudoHeader(family, addressToBytes(ip.src), addressToBytes(ip.dst), VRRP_PROTOCOL, msg.length),
          msg,
        );
  msg[6] = sum >> 8;
  msg[7] = sum & 0xff;
  return msg;
}

/** Why a received VRRP packet was discarded (RFC 5798 §7.1, RFC 3768 §7.1). */
export type DiscardReason =
  | "truncated"
  | "ttl"
  | "version"
  | "type"
  | "length"
  | "checksum"
  | "vrid"
  | "auth"
  | "interval"
  | "family"
  /** receive policy beyond §7.1 (see advert-policy.ts): the address list differs from ours */
  | "addresses"
  /** receive policy: another router also claims to own the addresses (priority 255) */
  | "owner-conflict";

export interface ReceivedPacket {
  family: Family;
  src: string;
  dst: string;
  /**
   * IPv4 TTL or IPv6 hop limit; undefined when the transport cannot see it (the check is skipped: a transport
   * that leaves it undefined must enforce 255 itself, as the raw transport's IPv6 socket filter does)
   */
  ttl?: number;
  /** the VRRP message (IP payload) */
  message: Uint8Array;
  /**
   * performance.now() when the packet reached this process (before decoding); the raw and UDP transports set it.
   * The instance anchors its Master_Down_Timer here rather than after decoding and validation.
   */
  receivedAt?: number;
}

export interface ValidateOptions {
  version: VrrpVersion;
  vrid: number;
  /** v2: the configured interval in ms; a different one is discarded (RFC 3768 §7.1). v3 learns it. */
  advertInterval?: number;
  /** v2: expected auth (keepalived `auth_type PASS` + `auth_pass`). Undefined = no authentication. */
  authPassword?: string;
  /** skip the TTL check (unicast peers across routers, or the UDP loopback transport) */
  ignoreTtl?: boolean;
}

export type ValidateResult =
  | { ok: true; advert: Advert }
  | { ok: false; reason: DiscardReason; detail: string };

function discard(reason: DiscardReason, detail: string): ValidateResult {
  return { ok: false, reason, detail };
}

/** Structural decode (no policy): the advert as sent, or why the bytes are not one. */
export function decodeAdvert(packet: ReceivedPacket): ValidateResult {
  const m = packet.message;
  if (m.length < 8) return discard("truncated", `vrrp: message of ${m.length} bytes is shorter than 8`);
  const version = m[0]! >> 4;
  if (version !== 2 && version !== 3) return discard("version", `vrrp: version ${version} is not 2 or 3`);
  const type = m[0]! & 0x0f;
  if (type !== VRRP_TYPE_ADVERTISEMENT) return discard("type", `vrrp: packet type ${type} is not 1 (advert)`);
  if (version === 2 && packet.family === 6) return discard("family", "vrrp: VRRPv2 is IPv4 only (RFC 3768)");
  const count = m[3]!;
  const want = messageLength(version, packet.family, count);
  if (m.length !== want)
    return discard("length", `vrrp: ${count} addresses need a ${want}-byte message, got ${m.length}`);
  const sum =
    version === 2
      ? internetChecksum(m)
      : internetChecksum(
          pseudoHeader(
            packet.family,
            addressToBytes(packet.src),
            addressToBytes(packet.dst),
            VRRP_PROTOCOL,
            m.length,
          ),
          m,
        );
  if (sum !== 0) return discard("checksum", `vrrp: bad checksum 0x${((m[6]! << 8) | m[7]!).toString(16)}`);
  const size = addressSize(packet.family);
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) addresses.push(formatIp(m, packet.family, 8 + i * size));
  const advert: Advert =
    version === 2
      ? {
          version,
          vrid: m[1]!,
          priority: m[2]!,
          advertInterval: m[5]! * 1000,
          addresses,
          authType: m[4]!,
          // a copy, and a plain Uint8Array even when the message is a Buffer (whose slice() is a view)
          authData: Uint8Array.from(m.subarray(8 + count * 4, 16 + count * 4)),
        }
      : {
          version,
          vrid: m[1]!,
          priority: m[2]!,
          advertInterval: (((m[4]! & 0x0f) << 8) | m[5]!) * 10,
          addresses,
        };
  return { ok: true, advert };
}

/**
 * The receive checks of RFC 5798 §7.1 for one virtual router, in the RFC's order: TTL/hop limit 255, version,
 * length vs address count, checksum, VRID, then (v2, RFC 3768) authentication and advert interval.
 */
export function validateAdvert(packet: ReceivedPacket, expect: ValidateOptions): ValidateResult {
  if (!expect.ignoreTtl && packet.ttl !== undefined && packet.ttl !== VRRP_TTL)
    return discard("ttl", `vrrp: ${packet.family === 4 ? "TTL" : "hop limit"} ${packet.ttl} is not 255`);
  if (packet.message.length >= 1 && packet.message[0]! >> 4 !== expect.version)
    return discard(
      "version",
      `vrrp: version ${packet.message[0]! >> 4}, this router speaks ${expect.version}`,
    );
  const decoded = decodeAdvert(packet);
  if (!decoded.ok) return decoded;
  const a = decoded.advert;
  if (a.vrid !== expect.vrid) return discard("vrid", `vrrp: VRID ${a.vrid} is not ${expect.vrid}`);
  if (a.version === 2) {
    const wantType = expect.authPassword === undefined ? AuthType.none : AuthType.simple;
    if (a.authType !== wantType)
      return discard("auth", `vrrp: auth type ${a.authType}, expected ${wantType}`);
    if (expect.authPassword !== undefined) {
      const want = passwordAuthData(expect.authPassword);
      if (!want.every((b, i) => a.authData?.[i] === b))
        return discard("auth", "vrrp: auth_pass does not match");
    }
    if (expect.advertInterval !== undefined && a.advertInterval !== expect.advertInterval)
      return discard(
        "interval",
        `vrrp: advert interval ${a.advertInterval / 1000} s, configured ${expect.advertInterval / 1000} s`,
      );
  }
  return decoded;
}
