/**
 * The client's endpoints as the proxy sees them — from the socket, or carried by an accepted PROXY header —
 * and the header that passes them on to a server (`sendProxy`). Pure.
 */
import { parseIp, unmapIPv4 } from "@lbkit/core";
import type { ProxyHeader } from "./types.js";
import { encodeV1 } from "./v1.js";
import { encodeV2 } from "./v2.js";

export interface ClientPeer {
  /** The client's address (IPv4-mapped IPv6 shown as IPv4). */
  address: string;
  port: number;
  /** The address and port the client connected to. */
  localAddress: string;
  localPort: number;
}

const unmapped = (a: string | undefined): string => {
  const ip = a === undefined ? undefined : parseIp(a);
  return ip ? unmapIPv4(ip).text : (a ?? "");
};

/** The endpoints of an accepted socket. */
export function socketPeer(s: {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
}): ClientPeer {
  return {
    address: unmapped(s.remoteAddress),
    port: s.remotePort ?? 0,
    localAddress: unmapped(s.localAddress),
    localPort: s.localPort ?? 0,
  };
}

/** The endpoints a PROXY header carries, or undefined when it carries none (LOCAL, UNKNOWN, UNSPEC). */
export function headerPeer(h: ProxyHeader): ClientPeer | undefined {
  if (h.command !== "proxy" || !h.source || !h.destination) return undefined;
  if (h.transport !== "tcp4" && h.transport !== "tcp6") return undefined;
  return {
    address: unmapped(h.source.address),
    port: h.source.port,
    localAddress: unmapped(h.destination.address),
    localPort: h.destination.port,
  };
}

/**
 * The PROXY header for `peer` (HAProxy `send-proxy` / `send-proxy-v2`). Mixed families are sent as TCP6 with the
 * IPv4 side mapped (`::ffff:a.b.c.d`); an address that is not IP is sent as UNKNOWN (v1) or UNSPEC (v2).
 */
export function proxyHeaderFor(version: "v1" | "v2", peer: ClientPeer): Buffer {
  const s = parseIp(peer.address);
  const d = parseIp(peer.localAddress);
  let header: Pick<ProxyHeader, "command" | "transport" | "source" | "destination"> = {
    command: "proxy",
    transport: "unknown",
  };
  if (s && d) {
    const v4 = s.family === 4 && d.family === 4;
    const text = (ip: { family: number; text: string }) =>
      v4 || ip.family === 6 ? ip.text : `::ffff:${ip.text}`;
    header = {
      command: "proxy",
      transport: v4 ? "tcp4" : "tcp6",
      source: { address: text(s), port: peer.port },
      destination: { address: text(d), port: peer.localPort },
    };
  }
  return version === "v1" ? encodeV1(header) : encodeV2(header);
}
