/**
 * RFC 5798 §7.1 on IPv6: an advert whose hop limit is not 255 crossed a router (or was forged off-link) and
 * MUST be discarded. An IPv6 raw socket delivers the payload only, raw-socket reads it with recvfrom (no
 * IPV6_RECVHOPLIMIT ancillary data), and IPV6_MINHOPCOUNT is enforced for TCP only, so the hop limit is checked
 * in the kernel by a classic BPF socket filter (@lbkit/arp's `ttlFilter`: it loads the IPv6 header's hop limit
 * byte through SKF_NET_OFF) that drops the packet unless it is 255. Pure: the program as instructions; the raw
 * transport attaches it with @lbkit/arp's `attachSocketFilter`.
 */
import { type BpfInstruction, ttlFilter } from "@lbkit/arp";

/** A = hop limit; A == `hopLimit` ? accept : drop. */
export function hopLimitFilter(hopLimit = 255): BpfInstruction[] {
  return ttlFilter(6, hopLimit);
}
