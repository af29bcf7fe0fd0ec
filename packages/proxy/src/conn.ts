/**
 * One TCP connection as the L4 and L7 shells see it, client or server side: bytes in, bytes out, half-close,
 * backpressure, an inactivity timeout. Two kinds stand behind it:
 * - `HandleConn` (handle-conn.ts): libuv's TCP handle driven directly, for plain TCP — the hot path;
 * - `SocketConn` (below): a `net.Socket` or `tls.TLSSocket`, for TLS, host names, and a Node.js without the
 *   bindings the lean kind needs.
 *
 * A connection reports to one `ConnHandler`, which can be swapped (a pooled server connection serves one
 * request after another). Every report passes the connection, so one object can handle two (a client and its
 * server). A handler that throws does not reach the event loop: the connection reports it as `connFailure`.
 * `connClose` comes once, later than the `destroy()` (or error, or both FINs) that caused it, never inside it.
 */

import type net from "node:net";
import tls from "node:tls";
import { CloseHooks } from "./close-hooks.js";
import type { DeadlineOwner, Deadlines } from "./deadlines.js";

export interface ConnHandler {
  /** Bytes the connection read; the buffer is the handler's to keep. */
  connData(c: Conn, d: Buffer): void;
  /** The peer half-closed (FIN): nothing more will be read. */
  connEnd(c: Conn): void;
  /** Closed for good: destroyed, failed, or both directions ended. */
  connClose(c: Conn): void;
  /** Everything written has left (after a `write` that answered false). */
  connDrain(c: Conn): void;
  /** Nothing was read or written for the inactivity timeout (`idle`). The connection stays open. */
  connTimeout(c: Conn): void;
  /** A connection this side opened is established (for TLS: the handshake is done). */
  connConnect(c: Conn): void;
  /** One of the handler's own methods threw. */
  connFailure(c: Conn, e: unknown): void;
}

export interface Conn {
  handler: ConnHandler;
  /**
   * Set inside `connData`: the handler kept nothing of that buffer (it left whole), so the next read may land in
   * it again. Only the lean kind reuses read buffers.
   */
  recycle: boolean;
  /** Established (accepted connections always are). */
  readonly connected: boolean;
  /** Destroyed or closed. */
  readonly destroyed: boolean;
  /** The peer's FIN was read. */
  readonly readEnded: boolean;
  /** Not ended or destroyed on this side. */
  readonly writable: boolean;
  /** Bytes written but not yet taken by the kernel (or TLS). */
  readonly pending: number;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /**
   * Writes `d`; false when bytes now wait in user space: stop feeding until `connDrain`. The buffer must not
   * change until it left (`pending` is 0).
   */
  write(d: Buffer): boolean;
  /** Writes `a` then `b` as one write (a head and the first body bytes). */
  write2(a: Buffer, b: Buffer): boolean;
  /**
   * Half-close after what is written (FIN). When the peer's FIN is already in and nothing waits to be written,
   * it may close the connection at once (`destroyed` is then true; `connClose` still comes later, as ever).
   */
  end(): void;
  /** Close now; what is not yet written is lost. */
  destroy(): void;
  /** Close once what is written has left. */
  destroySoon(): void;
  /** Stop reading (the kernel's buffer and then TCP's window push back on the peer). */
  pause(): void;
  resume(): void;
  /** Inactivity timeout in ms (0: none); an unchanged value costs nothing. */
  idle(ms: number): void;
  /** Runs `fn` once when the connection closes (after `connClose`). */
  onClosed(fn: () => void): void;
  /** The `net.Socket` behind a SocketConn (TLS details, HTTP/2); undefined for the lean kind. */
  readonly socket: net.Socket | undefined;
}

/** Calls one of `c`'s handler's methods; what it throws goes to the handler's `connFailure`, never to the event loop. */
export function report(c: Conn, fn: (c: Conn, d: Buffer) => void, d?: Buffer): void {
  const h = c.handler;
  try {
    fn.call(h, c, d as Buffer);
  } catch (e) {
    h.connFailure(c, e);
  }
}

/** A handler that ignores everything: the state of a connection no one owns yet. */
export const NO_HANDLER: ConnHandler = {
  connData() {},
  connEnd() {},
  connClose() {},
  connDrain() {},
  connTimeout() {},
  connConnect() {},
  connFailure() {},
};

/**
 * An inactivity timeout kept in a `Deadlines` heap and refreshed lazily: activity only records the time, and when
 * the deadline comes up the timeout fires only if nothing happened since; otherwise the deadline moves. The
 * socket's own timeout would re-arm a timer on every read and write.
 */
export class IdleTimeout implements DeadlineOwner {
  heapPos = -1;
  deadline = 0;
  ms = 0;
  last = 0;
  constructor(
    private readonly deadlines: Deadlines,
    private readonly now: () => number,
    private readonly fire: () => void,
    /** When activity seen elsewhere last happened (a native relay's), on the same clock; asked only when due. */
    private readonly seen?: () => number,
  ) {}

  set(ms: number): void {
    if (ms === this.ms) return;
    this.ms = ms;
    if (ms <= 0) {
      this.deadlines.clear(this);
      return;
    }
    this.last = this.now();
    this.deadlines.set(this, this.last + ms);
  }

  clear(): void {
    this.ms = 0;
    this.deadlines.clear(this);
  }

  deadlinePassed(): void {
    if (this.ms <= 0) return;
    if (this.seen !== undefined) {
      const t = this.seen();
      if (t > this.last) this.last = t;
    }
    const due = this.last + this.ms;
    if (due > this.now()) {
      this.deadlines.set(this, due);
      return;
    }
    this.last = this.now();
    this.deadlines.set(this, this.last + this.ms); // like a socket's: fires again after another quiet period
    this.fire();
  }
}

/** A `net.Socket` (or TLS socket) behind the Conn interface. */
export class SocketConn implements Conn {
  handler: ConnHandler = NO_HANDLER;
  recycle = false;
  connected: boolean;
  private idleMs = -1;
  private hooks: CloseHooks | undefined;

  constructor(
    readonly socket: net.Socket,
    /** An outgoing connection (it reports `connConnect`); accepted ones are connected already. */
    outgoing = false,
    /** Reads come through `onread` (the caller calls `read`), not `data` events. */
    userReads = false,
  ) {
    this.connected = !outgoing;
    if (outgoing)
      socket.on(socket instanceof tls.TLSSocket ? "secureConnect" : "connect", () => {
        this.connected = true;
        report(this, this.handler.connConnect);
      });
    if (!userReads) socket.on("data", (d: Buffer) => report(this, this.handler.connData, d));
    socket.on("end", () => report(this, this.handler.connEnd));
    socket.on("error", () => {}); // surfaced by 'close'
    socket.on("close", () => {
      report(this, this.handler.connClose);
      const hooks = this.hooks;
      this.hooks = undefined;
      hooks?.run();
    });
    socket.on("drain", () => report(this, this.handler.connDrain));
    socket.on("timeout", () => report(this, this.handler.connTimeout));
  }

  /** A read of `n` bytes into `b` (onread sockets); always true: pausing is the handler's call. */
  read(d: Buffer): boolean {
    report(this, this.handler.connData, d);
    return true;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }
  get readEnded(): boolean {
    return this.socket.readableEnded;
  }
  get writable(): boolean {
    return this.socket.writable;
  }
  get pending(): number {
    return this.socket.writableLength;
  }
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  write(d: Buffer): boolean {
    return this.socket.write(d);
  }

  write2(a: Buffer, b: Buffer): boolean {
    const s = this.socket;
    s.cork();
    s.write(a);
    const ok = s.write(b);
    s.uncork();
    return ok;
  }

  end(): void {
    this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }
  destroySoon(): void {
    this.socket.destroySoon();
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }

  /** Node allocates a timer on every `setTimeout` call: an unchanged value is not set again. */
  idle(ms: number): void {
    if (ms === this.idleMs) return;
    this.idleMs = ms;
    this.socket.setTimeout(ms);
  }

  onClosed(fn: () => void): void {
    if (this.socket.destroyed && this.socket.closed) {
      queueMicrotask(fn);
      return;
    }
    if (this.hooks === undefined) this.hooks = new CloseHooks(fn);
    else this.hooks.add(fn);
  }
}
