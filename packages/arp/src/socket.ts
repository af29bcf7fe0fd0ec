// The imperative shell around the AF_PACKET addon (native/packet_socket.cc): open / send / close on one
// interface, with kernel errors turned into ArpErrors that name the interface, the capability and the fix.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { ArpError } from "./errors.js";

/** The addon's surface. */
export interface NativePacket {
  open(ifindex: number): number;
  send(fd: number, ifindex: number, frame: Uint8Array): number;
  close(fd: number): void;
  /** SO_ATTACH_FILTER on this process's socket with SO_COOKIE `cookie` (a bigint) or on descriptor `cookie` (a number); returns the descriptor */
  attachFilter?(cookie: bigint | number, program: Uint8Array): number;
}

/** Where frames go: an AF_PACKET socket, or a fake in tests. */
export interface FrameSender {
  send(frame: Uint8Array): void;
  close(): void;
}

export interface LinkRef {
  name: string;
  ifindex: number;
}

let cached: NativePacket | undefined;

/**
 * Loads the addon (build/Release or prebuilds/<platform>-<arch>) through node-gyp-build, once.
 * `root` (the package directory by default) is for tests.
 */
export function loadNative(root?: string): NativePacket {
  if (cached && root === undefined) return cached;
  const dir = root ?? fileURLToPath(new URL("..", import.meta.url));
  try {
    const require = createRequire(import.meta.url);
    const load = require("node-gyp-build") as (dir: string) => NativePacket;
    const native = load(dir);
    if (root === undefined) cached = native;
    return native;
  } catch (err) {
    throw new ArpError(
      "ERR_NATIVE",
      `arp: the AF_PACKET addon could not be loaded from ${dir} (${(err as Error).message}); ` +
        "build it with `pnpm install` (or `npx node-gyp rebuild` in the package), which needs python3, make and g++",
      { cause: err },
    );
  }
}

const NEEDS_CAP =
  "sending raw frames needs CAP_NET_RAW: run as root, or grant it with `setcap cap_net_raw+ep $(command -v node)`";

/** Turns an errno error from the addon into an ArpError with context. */
export function describeSocketError(err: unknown, link: LinkRef, action: string): ArpError {
  const e = err as { code?: string; message?: string; syscall?: string };
  const where = `interface "${link.name}" (index ${link.ifindex})`;
  switch (e.code) {
    case "EPERM":
    case "EACCES":
      return new ArpError("ERR_PERMISSION", `arp: cannot ${action} on ${where}: ${e.code}, ${NEEDS_CAP}`, {
        cause: err,
      });
    case "ENODEV":
    case "ENXIO":
      return new ArpError(
        "ERR_NO_INTERFACE",
        `arp: cannot ${action}: ${where} does not exist (any more); check \`ip link\``,
        { cause: err },
      );
    case "ENETDOWN":
      return new ArpError(
        "ERR_SEND",
        `arp: cannot ${action}: ${where} is down; bring it up with \`ip link set ${link.name} up\``,
        { cause: err },
      );
    default:
      return new ArpError("ERR_SEND", `arp: cannot ${action} on ${where}: ${e.message ?? String(err)}`, {
        cause: err,
      });
  }
}

/** An open AF_PACKET socket bound to one interface. */
export class PacketSocket implements FrameSender {
  readonly link: LinkRef;
  #fd: number | undefined;
  readonly #native: NativePacket;

  private constructor(link: LinkRef, fd: number, native: NativePacket) {
    this.link = link;
    this.#fd = fd;
    this.#native = native;
  }

  /** Opens socket(AF_PACKET, SOCK_RAW, 0) bound to link.ifindex. Needs CAP_NET_RAW. */
  static open(link: LinkRef, native: NativePacket = loadNative()): PacketSocket {
    let fd: number;
    try {
      fd = native.open(link.ifindex);
    } catch (err) {
      throw describeSocketError(err, link, "open an AF_PACKET socket");
    }
    return new PacketSocket(link, fd, native);
  }

  /** Sends one complete Ethernet frame. */
  send(frame: Uint8Array): void {
    if (this.#fd === undefined) {
      throw new ArpError("ERR_SEND", `arp: socket on interface "${this.link.name}" is closed`);
    }
    try {
      this.#native.send(this.#fd, this.link.ifindex, frame);
    } catch (err) {
      throw describeSocketError(err, this.link, "send a frame");
    }
  }

  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    this.#native.close(fd);
  }
}
