/**
 * The PROXY protocol's model (HAProxy's doc/proxy-protocol.txt): a header that a proxy sends first on a
 * connection to carry the original client's addresses. Version 1 is one text line, version 2 a binary block
 * with optional type-length-value extensions (TLVs).
 */

/** Address family and transport: `tcp4`/`tcp6` are the only ones version 1 can carry (besides `unknown`). */
export type ProxyTransport = "tcp4" | "tcp6" | "udp4" | "udp6" | "unix" | "unix-dgram" | "unknown";

export interface ProxyEndpoint {
  /** IPv4 dotted quad, IPv6 (RFC 5952 text), or a UNIX socket path. */
  address: string;
  /** 0 for UNIX sockets. */
  port: number;
}

export interface ProxyTlv {
  /** 0..255: 0x01 ALPN, 0x02 AUTHORITY, 0x03 CRC32C, 0x04 NOOP, 0x05 UNIQUE_ID, 0x20 SSL, 0x30 NETNS, … */
  type: number;
  value: Uint8Array;
}

export interface ProxyHeader {
  version: 1 | 2;
  /**
   * `proxy`: the connection was relayed for the client in `source`. `local`: the sender's own connection (health
   * checks; version 2 only) — the receiver uses the real addresses. Version 1 `PROXY UNKNOWN` decodes as
   * `proxy` with transport `unknown` and no endpoints.
   */
  command: "proxy" | "local";
  transport: ProxyTransport;
  /** Absent for `local`, `unknown` and version 2's unspecified family. */
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
  /** Version 2 extensions, in wire order (a CRC32C TLV has been verified when present). */
  tlvs: ProxyTlv[];
}

export type ProxyParse =
  | { kind: "incomplete" }
  | { kind: "error"; reason: string }
  | { kind: "header"; header: ProxyHeader; length: number };

export const PP2_TYPE = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
} as const;
