/**
 * PROXY protocol version 1 (pure): one US-ASCII line, `PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n` or
 * `PROXY UNKNOWN …\r\n`, at most 107 bytes. Strict: single spaces, canonical decimal ports without leading
 * zeros, addresses in their family's syntax (IPv4 without leading zeros), nothing but CRLF at the end.
 */
import { Buffer } from "node:buffer";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "@lbkit/core";
import type { ProxyHeader, ProxyParse } from "./types.js";

/** The longest version 1 line, CRLF included. */
export const V1_MAX = 107;
const PREFIX = "PROXY ";

function port(s: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/** Decodes a version 1 line at the start of `buf`. */
export function decodeV1(buf: Uint8Array): ProxyParse {
  const n = Math.min(buf.length, V1_MAX);
  for (let i = 0; i < Math.min(n, PREFIX.length); i++)
    if (buf[i] !== PREFIX.charCodeAt(i)) return { kind: "error", reason: "not a PROXY protocol header" };
  let end = -1;
  for (let i = PREFIX.length; i < n; i++) {
    const c = buf[i] as number;
    if (c === 0x0d) {
      if (i + 1 >= buf.length) return { kind: "incomplete" };
      if (buf[i + 1] !== 0x0a) return { kind: "error", reason: "CR not followed by LF" };
      end = i;
      break;
    }
    if (c < 0x20 || c > 0x7e) return { kind: "error", reason: "a byte outside printable US-ASCII" };
  }
  if (end < 0)
    return buf.length >= V1_MAX
      ? { kind: "error", reason: "no CRLF within 107 bytes" }
      : { kind: "incomplete" };
  const line = String.fromCharCode(...buf.subarray(PREFIX.length, end));
  const length = end + 2;
  if (line === "UNKNOWN" || line.startsWith("UNKNOWN "))
    return {
      kind: "header",
      length,
      header: { version: 1, command: "proxy", transport: "unknown", tlvs: [] },
    };
  const f = line.split(" ");
  if (f.length !== 5 || (f[0] !== "TCP4" && f[0] !== "TCP6"))
    return { kind: "error", reason: "expected TCP4|TCP6 <src> <dst> <sport> <dport> or UNKNOWN" };
  const v4 = f[0] === "TCP4";
  const parse = v4 ? parseIPv4 : parseIPv6;
  const src = parse(f[1] as string);
  const dst = parse(f[2] as string);
  if (!src || !dst) return { kind: "error", reason: `an address is not ${v4 ? "IPv4" : "IPv6"}` };
  const sport = port(f[3] as string);
  const dport = port(f[4] as string);
  if (sport === undefined || dport === undefined)
    return { kind: "error", reason: "a port is not a decimal 0..65535 without leading zeros" };
  const fmt = v4 ? formatIPv4 : formatIPv6;
  return {
    kind: "header",
    length,
    header: {
      version: 1,
      command: "proxy",
      transport: v4 ? "tcp4" : "tcp6",
      source: { address: fmt(src), port: sport },
      destination: { address: fmt(dst), port: dport },
      tlvs: [],
    },
  };
}

/** Encodes a version 1 line: tcp4/tcp6 with both endpoints, anything else as `PROXY UNKNOWN`. */
export function encodeV1(h: Pick<ProxyHeader, "transport" | "source" | "destination">): Buffer {
  const { source: s, destination: d } = h;
  if ((h.transport !== "tcp4" && h.transport !== "tcp6") || !s || !d) return Buffer.from("PROXY UNKNOWN\r\n");
  return Buffer.from(
    `PROXY ${h.transport === "tcp4" ? "TCP4" : "TCP6"} ${s.address} ${d.address} ${s.port} ${d.port}\r\n`,
    "latin1",
  );
}
