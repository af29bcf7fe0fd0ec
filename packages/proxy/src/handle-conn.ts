/**
 * The lean connection: libuv's TCP handle driven directly (`@lbkit/core`'s `tcpWrap`), with no `net.Socket`.
 * Per read, `net.Socket` allocates a 64 KiB buffer, wraps it and pushes it through a Readable (push, emit, a
 * tick to read more); per write it builds a Writable entry, a request and a callback; and every read and write
 * refreshes a timer. Here a read lands in a buffer chosen by the connection and reaches the handler in one call,
 * a write that the kernel takes at once reuses one request object, and the inactivity timeout is a deadline that
 * activity only timestamps (`IdleTimeout`). On the proxy's small requests this is most of the difference to
 * HAProxy's CPU per request (bench/proxy).
 *
 * Reads: a small read lands in one buffer every connection shares and is copied out to an exact-size buffer; a
 * read that fills it moves the connection to 64 KiB buffers of its own, a fresh one per read unless the handler
 * says (`recycle`) that it kept nothing of the last one; a small read sends it back. What the handler gets is
 * always its own to keep (a head it parses lazily, a body chunk still queued on the other side).
 *
 * Accepting: `leanAccept` takes over a listening `net.Server`'s connection callback, so `listen()`, cluster
 * workers and `close()` stay Node's; only the accepted handles skip `net.Socket`.
 */

import { Buffer } from "node:buffer";
import type net from "node:net";
import type { TcpHandle, TcpReq, TcpWrap } from "@lbkit/core";
import { UV_EOF } from "@lbkit/core";
import type { Batch, BatchedConn } from "./batch-reads.js";
import { CloseHooks } from "./close-hooks.js";
import { type Conn, type ConnHandler, IdleTimeout, NO_HANDLER, report } from "./conn.js";
import type { Deadlines } from "./deadlines.js";
import type { Relay } from "./relay.js";
import { BIG_READ, copyOut, SHARED, SMALL_READ } from "./small-reads.js";
import type { TurnClock } from "./turn-clock.js";

const CONN: unique symbol = Symbol("lbkit.conn");
type Handle = TcpHandle & { [CONN]?: HandleConn };
type Req = TcpReq & { handle?: Handle };

/** `write` answers false once this many bytes wait in user space (net.Socket's default high-water mark). */
const HIGH_WATER = 16_384;
/** libuv's UV_ENOTCONN (shutdown of a socket that is not connected: there is nothing to flush). */
const UV_ENOTCONN = -107;

/** What every lean connection of one proxy shares: the bindings, its clock and its deadlines. */
export interface ConnEnv {
  readonly b: TcpWrap;
  /** Read once per read callback (turn-clock.ts). */
  readonly clock: TurnClock;
  readonly deadlines: Deadlines;
  /** Reads batched per event-loop turn by the addon (batch-reads.ts); L7 connections only. */
  readonly batch?: Batch | undefined;
}

/** A write request the kernel took at once is free again: the next write reuses it. */
let spare: Req | undefined;

export class HandleConn implements Conn, BatchedConn {
  handler: ConnHandler = NO_HANDLER;
  connected: boolean;
  destroyed = false;
  readEnded = false;
  /** Set by the handler inside `connData`: nothing of that buffer is kept, the next read may reuse it. */
  recycle = false;
  private shut = false;
  private writeEnded = false;
  private soon = false;
  private reading = false;
  private wantRead = false;
  private needDrain = false;
  /** Writes the kernel did not take at once, still queued in libuv. */
  private queued = 0;
  private rbuf: Buffer = SHARED;
  private readonly timeout: IdleTimeout;
  private hooks: CloseHooks | undefined;
  private peer: Record<string, unknown> | undefined;
  private local: Record<string, unknown> | undefined;
  /** The native relay that moves this connection's bytes (relay.ts), and which of its sides this is. */
  private lent: Relay | undefined;
  private lentSide: 0 | 1 = 0;
  /** Whether it read, or wanted to, when lent: a relay that did not start gives that back. */
  private lentReading = false;
  /** The batch's handle for this connection while the addon polls it (batch-reads.ts), and its slot. */
  private bx: unknown = undefined;
  private slot = -1;
  /** Bytes queued in the addon, as its last answer said. */
  private bq = 0;
  /** What a batch brought while the connection was paused (a read, or EOF as 0): handed over on resume. */
  private held: (Buffer | number)[] | undefined;

  constructor(
    readonly env: ConnEnv,
    private readonly h: Handle,
    outgoing: boolean,
  ) {
    this.connected = !outgoing;
    h[CONN] = this;
    h.onread = onRead;
    this.timeout = new IdleTimeout(
      env.deadlines,
      () => env.clock.now(),
      () => this.quiet(),
      () => this.relayed(),
    );
    if (!outgoing) this.setUp();
  }

  /**
   * A connection to `address` (an IP address; `v6` when it is an IPv6 one, as `dial` knows) and `port`; the
   * handler hears `connConnect` or `connClose`.
   */
  static connect(env: ConnEnv, address: string, port: number, v6: boolean): HandleConn {
    const h = new env.b.TCP(env.b.SOCKET) as Handle;
    const c = new HandleConn(env, h, true);
    const req = new env.b.TCPConnectWrap() as Req;
    req.oncomplete = afterConnect as Req["oncomplete"];
    const err = v6 ? h.connect6(req, address, port) : h.connect(req, address, port);
    if (err < 0) process.nextTick(failLater, c);
    return c;
  }

  private setUp(): void {
    this.h.setNoDelay(true);
    const batch = this.env.batch;
    if (batch !== undefined) {
      const a = batch.attach(this, this.h.fd);
      if (typeof a !== "number") {
        this.bx = a.ext;
        this.slot = a.slot;
        return;
      }
    }
    this.h.useUserBuffer(this.rbuf);
  }

  /** The socket's descriptor (for the native relay). */
  get fd(): number {
    return this.h.fd;
  }

  /**
   * Lends the connection to a native relay as its `side` (reading stops; it must not be written to or ended
   * while lent; `destroy()` stops the relay before it closes the socket), or takes it back (undefined: the relay
   * did not start; it reads again if it did or wanted to).
   */
  lend(r: Relay | undefined, side: 0 | 1): void {
    if (this.bx !== undefined) throw new Error("proxy: a batched connection cannot be lent to the relay");
    this.lentSide = side;
    if (r !== undefined) {
      this.lentReading = this.reading || this.wantRead;
      this.pause();
      this.lent = r;
      return;
    }
    this.lent = undefined;
    if (this.lentReading) this.resume();
  }

  /** When the relay last moved this side's bytes, on the connection's clock; -1 without one. */
  private relayed(): number {
    const ago = this.lent === undefined ? -1 : this.lent.ago(this.lentSide);
    return ago < 0 ? -1 : this.env.clock.now() - ago;
  }

  get socket(): undefined {
    return undefined;
  }
  get writable(): boolean {
    return !this.shut && !this.destroyed;
  }
  /** No write queued in libuv means none of its bytes wait: the handle's own count (a native getter) is not asked. */
  get pending(): number {
    if (this.bx !== undefined) return this.bq;
    return this.destroyed || this.queued === 0 ? 0 : this.h.writeQueueSize;
  }
  get remoteAddress(): string | undefined {
    return this.peername().address as string | undefined;
  }
  get remotePort(): number | undefined {
    return this.peername().port as number | undefined;
  }
  get localAddress(): string | undefined {
    return this.sockname().address as string | undefined;
  }
  get localPort(): number | undefined {
    return this.sockname().port as number | undefined;
  }
  private peername(): Record<string, unknown> {
    this.peer ??= this.address("getpeername");
    return this.peer ?? {};
  }
  private sockname(): Record<string, unknown> {
    this.local ??= this.address("getsockname");
    return this.local ?? {};
  }
  /** One end's address and port; undefined (asked again later) while the handle cannot tell. */
  private address(which: "getpeername" | "getsockname"): Record<string, unknown> | undefined {
    const out: Record<string, unknown> = {};
    return !this.destroyed && this.h[which](out) === 0 ? out : undefined;
  }

  private touch(): void {
    if (this.timeout.ms > 0) this.timeout.last = this.env.clock.now();
  }

  write(d: Buffer): boolean {
    if (this.shut || this.destroyed) return false;
    if (this.lent !== undefined) throw lentError("write");
    if (this.bx !== undefined) return this.wroteBatched(this.env.batch!.native.bwrite(this.bx, d));
    const req = spare ?? newWrite(this.env.b);
    spare = undefined;
    req.handle = this.h;
    const err = this.h.writeBuffer(req, d);
    return this.wrote(req, err, d);
  }

  write2(a: Buffer, b: Buffer): boolean {
    if (this.shut || this.destroyed) return false;
    if (this.lent !== undefined) throw lentError("write");
    if (this.bx !== undefined) return this.wroteBatched(this.env.batch!.native.bwrite(this.bx, a, b));
    const req = spare ?? newWrite(this.env.b);
    spare = undefined;
    req.handle = this.h;
    const chunks = [a, b];
    const err = this.h.writev(req, chunks, true);
    return this.wrote(req, err, chunks);
  }

  private wrote(req: Req, err: number, held: unknown): boolean {
    this.touch();
    if (err < 0) {
      spare = req;
      process.nextTick(failLater, this);
      return false;
    }
    const b = this.env.b;
    if (b.state[b.kLastWriteWasAsync] === 0) {
      spare = req; // the kernel took it all: nothing refers to the request or the bytes
      return true;
    }
    req.buffer = held; // libuv writes the rest from it later
    this.queued++;
    if (this.h.writeQueueSize < HIGH_WATER) return true;
    this.needDrain = true;
    return false;
  }

  /** A batched write: `q` bytes stay queued in the addon (0: the kernel took all), or a negative errno. */
  private wroteBatched(q: number): boolean {
    this.touch();
    if (q < 0) {
      process.nextTick(failLater, this);
      return false;
    }
    this.bq = q;
    if (q < HIGH_WATER) return true;
    this.needDrain = true;
    return false;
  }

  /** @internal the addon's write queue emptied (unless a write earlier in the same batch queued more). */
  drained(): void {
    if (this.destroyed) return;
    this.bq = this.env.batch!.native.bqueued(this.bx);
    if (this.bq !== 0) return; // another DRAINED follows
    this.touch();
    if (this.needDrain) {
      this.needDrain = false;
      report(this, this.handler.connDrain);
    }
  }

  /** @internal the addon's queued bytes or FIN could not be sent (or its poll failed): no held bytes matter. */
  broken(_errno: number): void {
    this.destroy();
  }

  /** @internal the FIN went after the addon's queue. */
  shutDone(): void {
    this.bq = 0;
    this.afterShutdown();
  }

  /** @internal a batched read (its own copy), EOF (0) or a read error (negative errno). */
  batched(d: Buffer | number): void {
    if (this.destroyed) return;
    if (!this.wantRead || this.held !== undefined) {
      // paused after the addon read it: the handler hears it on resume
      if (this.held === undefined) this.held = [d];
      else this.held.push(d);
      return;
    }
    this.deliver(d);
  }

  /** Hands one batched read (or EOF / read error) to the handler. */
  private deliver(d: Buffer | number): void {
    if (typeof d === "number") {
      this.read(d === 0 ? UV_EOF : d);
      return;
    }
    this.touch();
    report(this, this.handler.connData, d);
  }

  /** Hands over what a batch brought while paused, as long as the connection reads. */
  private release(): void {
    const held = this.held;
    if (held === undefined) return;
    while (held.length > 0 && this.wantRead && !this.destroyed) this.deliver(held.shift() as Buffer | number);
    if (held.length === 0) this.held = undefined;
  }

  /** @internal a queued write finished. */
  afterWrite(status: number): void {
    this.queued--;
    if (this.destroyed) return;
    if (status < 0) {
      this.destroy();
      return;
    }
    this.touch();
    if (this.queued === 0 && this.needDrain) {
      this.needDrain = false;
      report(this, this.handler.connDrain);
    }
  }

  end(): void {
    if (this.shut || this.destroyed) return;
    if (this.lent !== undefined) throw lentError("end");
    this.shut = true;
    if (
      this.readEnded &&
      this.queued === 0 &&
      (this.bx === undefined || this.env.batch!.native.bqueued(this.bx) === 0)
    ) {
      // the peer's FIN is in and the kernel holds every byte written: close() sends the FIN after them (nothing
      // unread, so no reset), which is where the shutdown would end; it would cost a syscall, two epoll changes
      // and a callback (L4 connection churn: one per session). The FIN goes when the last copy of the descriptor
      // closes: with cluster round-robin, a session over before the primary let go of its copy waits for that
      // (later, never lost)
      this.writeEnded = true;
      this.destroy();
      return;
    }
    if (this.bx !== undefined) {
      const r = this.env.batch!.native.bshut(this.bx);
      if (r === 1) this.afterShutdown();
      else if (r < 0) this.destroy();
      return; // 0: a SHUT entry follows the queue
    }
    const req = new this.env.b.ShutdownWrap() as Req;
    req.oncomplete = afterShutdown as Req["oncomplete"];
    req.handle = this.h;
    const err = this.h.shutdown(req);
    if (err === 1 || err === UV_ENOTCONN) this.afterShutdown();
    else if (err < 0) this.destroy();
  }

  /** @internal the FIN left after everything written. */
  afterShutdown(): void {
    if (this.destroyed) return;
    this.writeEnded = true;
    if (this.readEnded || this.soon) this.destroy();
  }

  destroySoon(): void {
    if (this.destroyed) return;
    this.soon = true;
    if (this.writeEnded) this.destroy();
    else this.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.timeout.clear();
    if (this.bx !== undefined) {
      this.env.batch!.detach(this.bx, this.slot); // its poll leaves the descriptor before the handle closes it
      this.bx = undefined;
      this.held = undefined;
    }
    const r = this.lent;
    if (r !== undefined) {
      this.lent = undefined;
      r.stop(); // its polls leave the descriptor before the handle closes it
    }
    this.h.close(onClose);
  }

  pause(): void {
    this.wantRead = false;
    if (this.reading && !this.destroyed) {
      this.reading = false;
      if (this.bx !== undefined) this.env.batch!.native.bread(this.bx, false);
      else this.h.readStop();
    }
  }

  resume(): void {
    this.wantRead = true;
    if (this.reading || this.destroyed || this.readEnded || !this.connected || this.lent !== undefined)
      return;
    if (this.bx !== undefined) {
      if (this.held !== undefined) process.nextTick(releaseHeld, this);
      this.reading = true;
      if (this.env.batch!.native.bread(this.bx, true) < 0) this.destroy();
      return;
    }
    this.reading = true;
    if (this.h.readStart() < 0) this.destroy();
  }

  /** @internal */
  releaseHeld(): void {
    this.release();
  }

  idle(ms: number): void {
    if (this.destroyed) return;
    this.timeout.set(ms);
  }

  /** What libuv still had queued when the inactivity timeout last came up. */
  private lastQueue = 0;
  /** The inactivity timeout came up: a queued write that made progress counts as activity (as in net.js). */
  private quiet(): void {
    const q = this.bx !== undefined ? this.env.batch!.native.bqueued(this.bx) : this.h.writeQueueSize;
    const progressed = q > 0 && q !== this.lastQueue;
    this.lastQueue = q;
    if (!progressed) report(this, this.handler.connTimeout);
  }

  onClosed(fn: () => void): void {
    if (this.hooks === undefined) this.hooks = new CloseHooks(fn);
    else this.hooks.add(fn);
  }

  /** @internal */
  connectDone(status: number): void {
    if (this.destroyed) return;
    if (status < 0) {
      this.destroy();
      return;
    }
    this.connected = true;
    this.setUp();
    this.touch();
    report(this, this.handler.connConnect);
    if (this.wantRead) {
      this.wantRead = false;
      this.resume();
    }
  }

  /** @internal one read (or EOF, or an error); answers the buffer the next read lands in when it changes. */
  read(n: number): Buffer | undefined {
    if (this.destroyed) return undefined;
    if (n > 0) {
      this.touch();
      const b = this.rbuf;
      if (b === SHARED) {
        report(this, this.handler.connData, copyOut(n));
        if (n < SMALL_READ || this.destroyed) return undefined;
        this.rbuf = Buffer.allocUnsafe(BIG_READ);
        return this.rbuf;
      }
      this.recycle = false;
      report(this, this.handler.connData, n === b.length ? b : b.subarray(0, n));
      if (n < SMALL_READ) this.rbuf = SHARED;
      else if (!this.recycle) this.rbuf = Buffer.allocUnsafe(BIG_READ);
      else return undefined;
      return this.rbuf;
    }
    if (n === 0) return undefined;
    if (n === UV_EOF) {
      this.readEnded = true;
      this.pause();
      report(this, this.handler.connEnd);
      if (this.writeEnded && !this.destroyed) this.destroy();
      return undefined;
    }
    this.destroy(); // a read error (ECONNRESET…): surfaced as the close
    return undefined;
  }

  /** @internal the handle is closed: the last report. */
  closed(): void {
    report(this, this.handler.connClose);
    const hooks = this.hooks;
    this.hooks = undefined;
    hooks?.run();
  }
}

function newWrite(b: TcpWrap): Req {
  const req = new b.WriteWrap() as Req;
  req.oncomplete = afterWrite as Req["oncomplete"];
  return req;
}

/** A write or end on a lent connection would hand libuv the descriptor the relay polls: a bug, said loudly. */
function lentError(what: string): Error {
  return new Error(`proxy: ${what}() on a connection lent to the native relay (stop the relay first)`);
}

function releaseHeld(c: HandleConn): void {
  c.releaseHeld();
}

function failLater(c: HandleConn): void {
  c.destroy();
}

function onRead(this: Handle): Buffer | undefined {
  const c = this[CONN];
  if (c === undefined) return undefined;
  const { b, clock } = c.env;
  clock.enter(); // everything this read sets off reads the time once
  try {
    return c.read(b.state[b.kReadBytesOrError] as number);
  } finally {
    clock.exit();
  }
}

function afterConnect(status: number, handle: Handle): void {
  handle[CONN]?.connectDone(status);
}

function afterWrite(this: Req, status: number): void {
  this.buffer = undefined;
  this.handle?.[CONN]?.afterWrite(status);
}

function afterShutdown(this: Req): void {
  this.handle?.[CONN]?.afterShutdown();
}

function onClose(this: Handle): void {
  this[CONN]?.closed();
}

interface ListenHandle {
  onconnection?: (err: number, h: Handle | undefined) => void;
}

/**
 * Takes over `server`'s accepted connections (after `listen`): each arrives as a HandleConn (paused: `resume`
 * starts reading) instead of a `net.Socket` and its `connection` event. False when the server has no listening
 * handle to take over.
 */
export function leanAccept(server: net.Server, env: ConnEnv, onConn: (c: HandleConn) => void): boolean {
  const lh = (server as unknown as { _handle?: ListenHandle })._handle;
  if (!lh || typeof lh.onconnection !== "function") return false;
  const node = lh.onconnection;
  lh.onconnection = function (this: unknown, err: number, h: Handle | undefined): void {
    if (err !== 0 || h === undefined) {
      node.call(this, err, h); // Node reports the accept error on the server
      return;
    }
    onConn(new HandleConn(env, h, false));
  };
  return true;
}
