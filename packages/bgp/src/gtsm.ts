/**
 * RFC 5881 §5 (GTSM, RFC 5082): a single-hop BFD control packet whose IPv4 TTL or IPv6 Hop Limit is not 255
 * crossed a router or was forged off-link, and MUST be discarded. Node's dgram sockets give no ancillary data
 * (no IP_RECVTTL / IPV6_RECVHOPLIMIT), so the check runs in the kernel: a classic BPF filter on the receive
 * socket (@lbkit/arp's `ttlFilter`) that, when the TTL is not 255, trims the datagram to its UDP header instead of
 * dropping it. The speaker then reads a zero-length datagram — never a valid BFD packet (24 bytes at least) — and
 * counts it, so the drops are visible. Pure: the program as instructions; the shell attaches it with @lbkit/arp's
 * `attachSocketFilter`.
 */
import { type BpfInstruction, ttlFilter } from "@lbkit/arp";

/** The TTL / Hop Limit every single-hop BFD packet is sent with and must arrive with (RFC 5881 §5). */
export const GTSM_TTL = 255;
/** a UDP socket filter runs at the UDP header: keeping 8 bytes keeps the header and no payload */
const UDP_HEADER_ONLY = 8;

/** TTL (IPv4) or Hop Limit (IPv6) == 255 ? keep the datagram : empty it. */
export function gtsmFilter(family: 4 | 6): BpfInstruction[] {
  return ttlFilter(family, GTSM_TTL, UDP_HEADER_ONLY);
}
