/**
 * The read buffers both connection kinds share (handle-conn.ts for lean connections, reads.ts for `net.Socket`
 * ones): a small read lands in `SHARED` and is copied out at once, in the read callback, before any other read
 * can land there; a read that fills it moves its connection to buffers of its own, `BIG_READ` bytes each.
 *
 * The copy is one `Buffer.allocUnsafe` (a slice of Node's pool) and one `TypedArray#set` from a view of `SHARED`'s
 * first `n` bytes, a view made once per size: `Buffer#copy` with a source range would build that view (and look
 * up its ArrayBuffer) on every read, twice per proxied request.
 *
 * `Buffer` is imported in the proxy's files, not read from the global: on Node 20 `globalThis.Buffer` is an
 * accessor, and every read of it from optimised code went through the IC's slow path and that getter (about 0.5 % of
 * the L4 proxy's CPU samples, nearly all from here).
 */

import { Buffer } from "node:buffer";

/** Reads up to this size land in the shared buffer and are copied out. */
export const SMALL_READ = 16_384;
/** A connection whose read filled the shared buffer reads into buffers of its own, this big. */
export const BIG_READ = 65_536;
export const SHARED = Buffer.allocUnsafeSlow(SMALL_READ);

/** Copies of up to this many bytes go through a cached view (at most this many views, about 100 B each). */
const VIEWED = 4096;
const views: (Uint8Array | undefined)[] = [];

function viewOf(n: number): Uint8Array {
  const v = new Uint8Array(SHARED.buffer, SHARED.byteOffset, n);
  views[n] = v;
  return v;
}

/** `SHARED`'s first `n` bytes as a buffer of their own: the caller may keep it. */
export function copyOut(n: number): Buffer {
  const d = Buffer.allocUnsafe(n);
  if (n <= VIEWED) d.set(views[n] ?? viewOf(n));
  else SHARED.copy(d, 0, 0, n);
  return d;
}
