/**
 * RFC 5798 §7.1 on IPv6: an advert whose hop limit is not 255 crossed a router (or was forged off-link) and
 * MUST be discarded. An IPv6 raw socket delivers the payload only, raw-socket reads it with recvfrom (no
 * IPV6_RECVHOPLIMIT ancillary data), and IPV6_MINHOPCOUNT is enforced for TCP only, so the hop limit is checked
 * in the kernel by a classic BPF socket filter: it loads the IPv6 header's hop limit byte through SKF_NET_OFF
 * (the network header, whatever the socket's payload offset) and drops the packet unless it is 255. Pure: the
 * program as instructions; the raw transport attaches it with @lbkit/arp's `attachSocketFilter`.
 */
import type { BpfInstruction } from "@lbkit/arp";

/** linux/filter.h: negative load offsets relative to the network header */
const SKF_NET_OFF = -0x100000;
const BPF_LD_B_ABS = 0x30; // BPF_LD | BPF_B | BPF_ABS
const BPF_JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_RET_K = 0x06; // BPF_RET | BPF_K
/** byte offset of Hop Limit in the IPv6 header */
const HOP_LIMIT_OFFSET = 7;
/** keep the whole packet (any length above the largest datagram) */
const ACCEPT = 0x40000;

/** A = hop limit; A == `hopLimit` ? accept : drop. */
export function hopLimitFilter(hopLimit = 255): BpfInstruction[] {
  return [
    { code: BPF_LD_B_ABS, jt: 0, jf: 0, k: (SKF_NET_OFF + HOP_LIMIT_OFFSET) >>> 0 },
    { code: BPF_JEQ_K, jt: 0, jf: 1, k: hopLimit },
    { code: BPF_RET_K, jt: 0, jf: 0, k: ACCEPT },
    { code: BPF_RET_K, jt: 0, jf: 0, k: 0 },
  ];
}
