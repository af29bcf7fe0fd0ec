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
 * Attaches `program` (from encodeBpf) to this process's socket whose SO_COOKIE is `cookie`. Needs the addon
 * built from this version's native/packet_socket.cc.
 */
export function attachSocketFilter(
  cookie: bigint,
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
      `arp: attaching a socket filter to the socket with cookie ${cookie} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
