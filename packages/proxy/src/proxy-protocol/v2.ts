/**
 * PROXY protocol version 2 (pure): the 12-byte signature, version/command, family/transport, a big-endian
 * length, the address block (12 bytes IPv4, 36 IPv6, 216 UNIX) and TLVs. Strict: version 2 only, commands
 * LOCAL/PROXY only, known families, an address block that fits the length, TLVs that exactly fill the rest,
 * and a CRC32C TLV that matches when present.
 */
import { Buffer } from "node:buffer";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "@lbkit/core";
import { PP2_TYPE, type ProxyHeader, type ProxyParse, type ProxyTlv, type ProxyTransport } from "./types.js";

export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** Largest version 2 header accepted by default (HAProxy bounds it by its buffer; senders use far less). */
export const V2_DEFAULT_MAX = 4096;

const FAMILIES: Record<number, ProxyTransport> = {
  17: "tcp4",
  18: "udp4",
  33: "tcp6",
  34: "udp6",
  49: "unix",
  50: "unix-dgram",
};
const CODES: Record<ProxyTransport, number> = {
  unknown: 0x00,
  tcp4: 0x11,
  udp4: 0x12,
  tcp6: 0x21,
  udp6: 0x22,
  unix: 0x31,
  "unix-dgram": 0x32,
};
const ADDRESS_BYTES = { 1: 12, 2: 36, 3: 216 } as const;

/** CRC-32C (Castagnoli), reflected, as PP2_TYPE_CRC32C uses. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();
export function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = (CRC_TABLE[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function unixPath(b: Uint8Array): string {
  const z = b.indexOf(0);
  return Buffer.from(b.subarray(0, z < 0 ? b.length : z)).toString("utf8");
}

/** Decodes a version 2 header at the start of `buf`; `max` bounds its total length. */
export function decodeV2(buf: Uint8Array, max = V2_DEFAULT_MAX): ProxyParse {
  for (let i = 0; i < Math.min(buf.length, 12); i++)
    if (buf[i] !== V2_SIGNATURE[i]) return { kind: "error", reason: "not a PROXY protocol header" };
  if (buf.length < 16) return { kind: "incomplete" };
  const vc = buf[12] as number;
  if (vc >> 4 !== 2) return { kind: "error", reason: `version ${vc >> 4} is not 2` };
  const cmd = vc & 0x0f;
  if (cmd > 1) return { kind: "error", reason: `command ${cmd} is neither LOCAL (0) nor PROXY (1)` };
  const fam = buf[13] as number;
  const len = ((buf[14] as number) << 8) | (buf[15] as number);
  const total = 16 + len;
  if (total > max) return { kind: "error", reason: `header of ${total} bytes exceeds ${max}` };
  if (buf.length < total) return { kind: "incomplete" };
  const af = fam >> 4;
  const tp = fam & 0x0f;
  if (af > 3 || tp > 2 || (af === 0) !== (tp === 0))
    return { kind: "error", reason: `family/transport 0x${fam.toString(16)} is not defined` };
  const local = cmd === 0;
  const transport: ProxyTransport = fam === 0 ? "unknown" : (FAMILIES[fam] as ProxyTransport);
  const addrLen = af === 0 ? 0 : ADDRESS_BYTES[af as 1 | 2 | 3];
  if (len < addrLen)
    return { kind: "error", reason: `length ${len} is shorter than the ${addrLen}-byte address block` };
  const body = buf.subarray(16, total);
  const header: ProxyHeader = { version: 2, command: local ? "local" : "proxy", transport, tlvs: [] };
  if (af === 1 || af === 2) {
    const w = af === 1 ? 4 : 16;
    const fmt = af === 1 ? formatIPv4 : formatIPv6;
    const port = (o: number) => ((body[o] as number) << 8) | (body[o + 1] as number);
    header.source = { address: fmt(body.subarray(0, w)), port: port(2 * w) };
    header.destination = { address: fmt(body.subarray(w, 2 * w)), port: port(2 * w + 2) };
  } else if (af === 3) {
    header.source = { address: unixPath(body.subarray(0, 108)), port: 0 };
    header.destination = { address: unixPath(body.subarray(108, 216)), port: 0 };
  }
  if (local) {
    // the receiver must ignore a LOCAL header's address block (the connection is the sender's own)
    delete header.source;
    delete header.destination;
  }
  for (let o = addrLen; o < len; ) {
    if (len - o < 3) return { kind: "error", reason: "a truncated TLV" };
    const type = body[o] as number;
    const vlen = ((body[o + 1] as number) << 8) | (body[o + 2] as number);
    if (o + 3 + vlen > len)
      return { kind: "error", reason: `TLV 0x${type.toString(16)} overruns the header` };
    const value = body.subarray(o + 3, o + 3 + vlen);
    if (type === PP2_TYPE.CRC32C) {
      if (vlen !== 4) return { kind: "error", reason: "a CRC32C TLV is not 4 bytes" };
      const copy = Buffer.from(buf.subarray(0, total));
      copy.fill(0, 16 + o + 3, 16 + o + 7);
      if (crc32c(copy) !== Buffer.from(value).readUInt32BE(0))
        return { kind: "error", reason: "the CRC32C TLV does not match the header" };
    }
    header.tlvs.push({ type, value: Uint8Array.from(value) });
    o += 3 + vlen;
  }
  return { kind: "header", header, length: total };
}

function ipBytes(address: string, v4: boolean): Uint8Array {
  const b = v4 ? parseIPv4(address) : parseIPv6(address);
  if (!b) throw new TypeError(`PROXY v2: address ${address} is not ${v4 ? "IPv4" : "IPv6"}`);
  return b;
}

/**
 * Encodes a version 2 header. `crc: true` appends a CRC32C TLV over the whole header. Throws a TypeError on
 * endpoints that do not fit the transport (a caller's bug, not input).
 */
export function encodeV2(
  h: Pick<ProxyHeader, "command" | "transport" | "source" | "destination"> & { tlvs?: readonly ProxyTlv[] },
  opts: { crc?: boolean } = {},
): Buffer {
  const local = h.command === "local";
  const transport = h.source && h.destination ? h.transport : "unknown";
  const code = CODES[transport];
  const af = code >> 4;
  const addrLen = af === 0 ? 0 : ADDRESS_BYTES[af as 1 | 2 | 3];
  const tlvs = [...(h.tlvs ?? [])];
  let tlvLen = 0;
  for (const t of tlvs) tlvLen += 3 + t.value.length;
  if (opts.crc) tlvLen += 7;
  const len = addrLen + tlvLen;
  if (len > 0xffff) throw new TypeError(`PROXY v2: header body of ${len} bytes exceeds 65535`);
  const out = Buffer.alloc(16 + len);
  V2_SIGNATURE.copy(out, 0);
  out[12] = 0x20 | (local ? 0 : 1);
  out[13] = code;
  out.writeUInt16BE(len, 14);
  const s = h.source;
  const d = h.destination;
  if ((af === 1 || af === 2) && s && d) {
    const w = af === 1 ? 4 : 16;
    out.set(ipBytes(s.address, af === 1), 16);
    out.set(ipBytes(d.address, af === 1), 16 + w);
    out.writeUInt16BE(s.port, 16 + 2 * w);
    out.writeUInt16BE(d.port, 18 + 2 * w);
  } else if (af === 3 && s && d) {
    const sp = Buffer.from(s.address, "utf8");
    const dp = Buffer.from(d.address, "utf8");
    if (sp.length > 108 || dp.length > 108) throw new TypeError("PROXY v2: a UNIX path exceeds 108 bytes");
    sp.copy(out, 16);
    dp.copy(out, 16 + 108);
  }
  let o = 16 + addrLen;
  for (const t of tlvs) {
    out[o] = t.type;
    out.writeUInt16BE(t.value.length, o + 1);
    out.set(t.value, o + 3);
    o += 3 + t.value.length;
  }
  if (opts.crc) {
    out[o] = PP2_TYPE.CRC32C;
    out.writeUInt16BE(4, o + 1);
    out.writeUInt32BE(crc32c(out), o + 3);
  }
  return out;
}
