/**
 * Reading a socket without a fresh buffer per read. Node's default read path allocates 64 KiB for every read
 * (malloc, then shrunk to the bytes read), wraps it in a new ArrayBuffer and pushes it through the Readable
 * stream (push, emit, a tick to read more); with `onread` the socket reads into a buffer we choose and calls
 * us directly. `ReadBuffers` chooses: a small read lands in one buffer every connection shares and is copied
 * out to an exact-size buffer from Node's pool; a read that fills it moves the connection to buffers of its
 * own, a fresh one per read, until a small read sends it back. What the caller gets is always its own to keep
 * (a head it parses lazily, a body chunk still queued in the other socket).
 *
 * Sockets the caller creates get `onread` from `net.connect`. Accepted sockets have no such option: `userReads`
 * switches one after the fact, the way Node's own constructor sets it up (the socket's `kBuffer`/`kBufferCb`
 * fields and its handle's `useUserBuffer`). It probes for those once and answers false when any is missing —
 * another Node version, a TLS socket, bytes already queued — and the caller keeps `data` events.
 */
import { Buffer } from "node:buffer";
import net from "node:net";
import { BIG_READ, copyOut, SHARED, SMALL_READ } from "./small-reads.js";

export class ReadBuffers {
  private buf: Buffer = SHARED;

  /** The bytes of a read of `n` into `b` (the buffer `next` gave), as a buffer the caller owns. */
  take(n: number, b: Buffer): Buffer {
    if (b === SHARED) {
      if (n === SMALL_READ) this.buf = Buffer.allocUnsafe(BIG_READ);
      return copyOut(n);
    }
    this.buf = n < SMALL_READ ? SHARED : Buffer.allocUnsafe(BIG_READ);
    return n === b.length ? b : b.subarray(0, n);
  }

  /** The buffer the next read lands in. */
  next(): Buffer {
    return this.buf;
  }
}

/** The buffer a socket reads into before its ReadBuffers exists (Node asks once, inside `net.connect`). */
export const firstReadBuffer = (): Buffer => SHARED;

interface Fields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}
let fields: Fields | null | undefined;

/** The socket fields `onread` sets, found on a socket made with it; null when this Node has none of them. */
function probe(): Fields | null {
  if (fields !== undefined) return fields;
  fields = null;
  try {
    // Node reads `onread` here too, though its types name it for connect() only
    const s = new net.Socket({
      onread: { buffer: Buffer.alloc(1), callback: () => true },
    } as net.SocketConstructorOpts);
    const by = (name: string) => Object.getOwnPropertySymbols(s).find((k) => k.description === name);
    const buffer = by("kBuffer");
    const callback = by("kBufferCb");
    const generator = by("kBufferGen");
    const o = s as unknown as Record<symbol, unknown>;
    if (buffer && callback && generator && Buffer.isBuffer(o[buffer]) && typeof o[callback] === "function")
      fields = { buffer, callback, generator };
    s.destroy();
  } catch {
    fields = null;
  }
  return fields;
}

interface UserBufferHandle {
  useUserBuffer?: (b: Uint8Array) => void;
}

/**
 * Switches an accepted plain TCP socket to `onread`: every read calls `onRead(data)` (a buffer it owns) instead
 * of emitting `data`. False (nothing changed) when the socket is TLS, has bytes queued (unshifted), or this Node
 * lacks what the switch needs.
 */
export function userReads(socket: net.Socket, reads: ReadBuffers, onRead: (d: Buffer) => void): boolean {
  const f = probe();
  const handle = (socket as unknown as { _handle?: UserBufferHandle })._handle;
  if (
    f === null ||
    handle === undefined ||
    typeof handle.useUserBuffer !== "function" ||
    socket.constructor !== net.Socket ||
    socket.readableLength > 0
  )
    return false;
  const o = socket as unknown as Record<symbol, unknown>;
  o[f.generator] = () => reads.next();
  o[f.callback] = (n: number, b: Buffer) => {
    onRead(reads.take(n, b));
    return true;
  };
  o[f.buffer] = reads.next();
  handle.useUserBuffer(reads.next());
  return true;
}
