// Classic BPF socket filters for sockets this package does not own (e.g. a raw IP socket from another addon):
// the socket is named by its SO_COOKIE, which any holder can read with getsockopt, and the addon finds its
// descriptor in /proc/self/fd. The filter runs in the kernel, before the packet is queued to the socket.
import { ArpError } from "./errors.js";
import { loadNative, type NativePacket } from "./socket.js";

/** Linux SOL_SOCKET option numbers, for callers reading the cookie with their own getsockopt. */
export const SOL_SOCKET = 1;
export const SO_COOKIE = 57;

/** One classic BPF instruction (struct sock_filter). */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** linux/filter.h: negative load offsets relative to the network header */
const SKF_NET_OFF = -0x100000;
const BPF_LD_B_ABS = 0x30; // BPF_LD | BPF_B | BPF_ABS
const BPF_JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_RET_K = 0x06; // BPF_RET | BPF_K
/** keep the whole packet (any length above the largest datagram) */
const KEEP_ALL = 0x40000;

/**
 * A TTL check (GTSM, RFC 5082) as a socket filter: it loads the IPv4 TTL (header byte 8) or IPv6 Hop Limit (byte 7)
 * through SKF_NET_OFF — the network header, whatever the socket's payload offset — and keeps the packet when it
 * equals `ttl`; otherwise it returns `otherwise`: 0 drops the packet, a UDP socket's 8 keeps only the UDP header
 * (the socket reads an empty datagram, so the drop can be counted). Pure: instructions for encodeBpf.
 */
export function ttlFilter(family: 4 | 6, ttl: number, otherwise = 0): BpfInstruction[] {
  return [
    { code: BPF_LD_B_ABS, jt: 0, jf: 0, k: (SKF_NET_OFF + (family === 4 ? 8 : 7)) >>> 0 },
    { code: BPF_JEQ_K, jt: 0, jf: 1, k: ttl },
    { code: BPF_RET_K, jt: 0, jf: 0, k: KEEP_ALL },
    { code: BPF_RET_K, jt: 0, jf: 0, k: otherwise },
  ];
}

/** Encodes instructions as the kernel's struct sock_filter array (little-endian hosts: x86-64, arm64). */
export function encodeBpf(program: readonly BpfInstruction[]): Uint8Array {
  const out = new Uint8Array(program.length * 8);
  const view = new DataView(out.buffer);
  program.forEach((i, n) => {
    view.setUint16(n * 8, i.code, true);
    view.setUint8(n * 8 + 2, i.jt);
    view.setUint8(n * 8 + 3, i.jf);
    view.setUint32(n * 8 + 4, i.k >>> 0, true);
  });
  return out;
}

/**
 * Attaches `program` (from encodeBpf) to this process's socket whose SO_COOKIE is `cookie` (a bigint), or to the
 * descriptor `cookie` when it is a number (a socket whose descriptor the caller knows). Needs the addon built
 * from this version's native/packet_socket.cc.
 */
export function attachSocketFilter(
  cookie: bigint | number,
  program: Uint8Array,
  native: NativePacket = loadNative(),
): void {
  if (typeof native.attachFilter !== "function")
    throw new ArpError(
      "ERR_NATIVE",
      "arp: the AF_PACKET addon predates attachFilter; rebuild it (`rm -rf node_modules/@lbkit/arp/build && pnpm install`, or `node-gyp rebuild` in the package)",
    );
  try {
    native.attachFilter(cookie, program);
  } catch (err) {
    throw new ArpError(
      "ERR_FILTER",
      `arp: attaching a socket filter to the socket with ${typeof cookie === "number" ? "descriptor" : "cookie"} ${cookie} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
