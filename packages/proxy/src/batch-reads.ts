/**
 * Batched reads for the L7 proxy's lean connections (native/batch.c). A lean connection's reads otherwise reach
 * JavaScript one libuv callback each, and Node's machinery around a callback (the callback scope, async hooks,
 * the microtask and tick checkpoints) costs about a microsecond: two reads per proxied request, so about a tenth
 * of the L7 proxy's CPU per request (bench/proxy). Here the addon polls the connections' descriptors itself,
 * reads whatever a turn of the event loop found ready into one shared arena, and calls JavaScript once per turn
 * with a table of what it read; `dispatch` hands each entry to its connection (`HandleConn.batched`).
 *
 * libuv allows one watcher per descriptor, so a batched connection writes through the addon too: at once when
 * the kernel takes the bytes, otherwise queued in the addon and sent when the socket is writable (a DRAINED
 * entry says the queue emptied, SHUT that the FIN went after it).
 *
 * On by default for L7 connections over plain TCP when the addon is built; `LBKIT_PROXY_BATCH=0` turns it off
 * (reads and writes then go through the connections' libuv handles). The relay's addon carries it; L4 sessions
 * do not use it (they are lent to the relay instead).
 */
import { Buffer } from "node:buffer";
import { loadRelay } from "./relay.js";

export interface BatchNative {
  /** False when this environment's batch was set up already (by another copy of this module: ESM and CJS). */
  binit(report: (count: number) => void, arena: ArrayBuffer, entries: Int32Array): boolean;
  bstart(fd: number, slot: number): unknown;
  bread(conn: unknown, on: boolean): number;
  bwrite(conn: unknown, a: Buffer, b?: Buffer): number;
  bshut(conn: unknown): number;
  bqueued(conn: unknown): number;
  bstop(conn: unknown): void;
}

/** What a batched connection hears (HandleConn). */
export interface BatchedConn {
  /** Bytes read (its own copy), EOF (0) or a read error (a negative errno). */
  batched(d: Buffer | number): void;
  /** The addon's write queue emptied (after a write answered that bytes stayed queued). */
  drained(): void;
  /** The FIN went, after the queue emptied. */
  shutDone(): void;
  /** Sending what was queued failed: the connection is broken. */
  broken(errno: number): void;
  /** Runs `fn` under the connection's clock (one read of the time per entry). */
  readonly env: { readonly clock: { enter(): void; exit(): void } };
}

const DATA = 1;
const EOF = 2;
const ERROR = 3;
const DRAINED = 4;
const SHUT = 5;
const READ_ERROR = 6;

const ARENA = 1 << 20;
const ENTRIES = 4096;

export class Batch {
  private readonly arena = new ArrayBuffer(ARENA);
  private readonly bytes = new Uint8Array(this.arena);
  private readonly table = new Int32Array(4 * ENTRIES);
  private readonly conns: (BatchedConn | undefined)[] = [];
  private readonly free: number[] = [];

  constructor(readonly native: BatchNative) {
    if (!native.binit((count) => this.dispatch(count), this.arena, this.table))
      throw new Error("proxy: the batch addon was set up twice in one environment");
  }

  /** Polls `c`'s descriptor (not reading yet): the addon's handle, or a negative errno (nothing changed). */
  attach(c: BatchedConn, fd: number): { ext: unknown; slot: number } | number {
    const slot = this.free.pop() ?? this.conns.length;
    const ext = this.native.bstart(fd, slot);
    if (typeof ext === "number") {
      if (slot < this.conns.length) this.free.push(slot);
      return ext;
    }
    this.conns[slot] = c;
    return { ext, slot };
  }

  /** Stops polling; entries of `slot` not yet dispatched are dropped, and the slot is free again. */
  detach(ext: unknown, slot: number): void {
    this.native.bstop(ext);
    this.conns[slot] = undefined;
    this.free.push(slot);
  }

  /**
   * Every entry reaches its connection even when a handler throws (a connection's exceptions go to its
   * `connFailure`; one from there is thrown after the batch, as an uncaught exception).
   */
  private dispatch(count: number): void {
    const t = this.table;
    let failed: { e: unknown } | undefined;
    for (let i = 0; i < count; i++) {
      const k = 4 * i;
      const slot = t[k] as number;
      const c = slot < 0 ? undefined : this.conns[slot];
      if (c === undefined) continue;
      const clock = c.env.clock;
      clock.enter();
      try {
        switch (t[k + 1]) {
          case DATA: {
            const off = t[k + 2] as number;
            const n = t[k + 3] as number;
            const d = Buffer.allocUnsafe(n);
            d.set(this.bytes.subarray(off, off + n));
            c.batched(d);
            break;
          }
          case EOF:
            c.batched(0);
            break;
          case READ_ERROR:
            c.batched(t[k + 3] as number);
            break;
          case ERROR:
            c.broken(t[k + 3] as number);
            break;
          case DRAINED:
            c.drained();
            break;
          case SHUT:
            c.shutDone();
            break;
        }
      } catch (e) {
        failed ??= { e };
      } finally {
        clock.exit();
      }
    }
    if (failed !== undefined) throw failed.e;
  }
}

export interface BatchedReads {
  /** L7 connections over plain TCP read (and write) through the addon, one JavaScript call per loop turn. */
  on: boolean;
  /** Why (for off: what is missing). */
  reason: string;
}

let loaded: { batch: Batch | undefined; info: BatchedReads } | undefined;
const SHARED = Symbol.for("lbkit.proxy.batch");

function load(env: NodeJS.ProcessEnv): { batch: Batch | undefined; info: BatchedReads } {
  const v = env.LBKIT_PROXY_BATCH;
  if (v === "0") return { batch: undefined, info: { on: false, reason: "LBKIT_PROXY_BATCH=0 turns it off" } };
  if (v !== undefined && v !== "" && v !== "1")
    return {
      batch: undefined,
      info: { on: false, reason: `LBKIT_PROXY_BATCH=${JSON.stringify(v)} is not one of 0, 1` },
    };
  const { native, info } = loadRelay(undefined, { ...env, LBKIT_PROXY_RELAY: "1" });
  const n = native as unknown as Partial<BatchNative> | undefined;
  if (n === undefined) return { batch: undefined, info: { on: false, reason: info.reason } };
  if (typeof n.binit !== "function")
    return {
      batch: undefined,
      info: { on: false, reason: "the addon predates batched reads: rebuild it (pnpm rebuild @lbkit/proxy)" },
    };
  // one batch per environment, shared by every copy of this module (the ESM and CJS builds load one addon)
  const shared = n as BatchNative & { [SHARED]?: Batch };
  shared[SHARED] ??= new Batch(shared);
  return {
    batch: shared[SHARED],
    info: { on: true, reason: "L7 connections read and write through the addon (native/batch.c)" },
  };
}

/** The thread's batch, or undefined when the addon is not built or `LBKIT_PROXY_BATCH=0`. */
export function batch(): Batch | undefined {
  loaded ??= load(process.env);
  return loaded.batch;
}

/** Whether L7 connections over plain TCP batch their reads in the addon, and why. */
export function batchedReads(): BatchedReads {
  loaded ??= load(process.env);
  return loaded.info;
}
