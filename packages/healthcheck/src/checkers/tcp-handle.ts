/**
 * The lean check transport: libuv's TCP handle driven directly, the way Node's own `net.js` drives it (the
 * `tcp_wrap` binding's `TCP` and `TCPConnectWrap`, `stream_wrap`'s `WriteWrap` and `onread`), with no
 * `net.Socket` and no stream state. A check makes one short connection and reads a few bytes; the socket and
 * stream objects around that cost more than the system calls (bench/healthcheck: a bare `net.connect` loop
 * spends ~1.3 × the CPU per connection of this one). Every callback is shared by all connections: a
 * connection is one object, its handle and its requests.
 *
 * The bindings are reached through `process.binding()`, deprecated in the documentation only (DEP0111); it
 * warns only under `--pending-deprecation`, where this transport is not used. They are probed once; when any
 * piece is missing or behaves unexpectedly, {@link checkTransport} says why and checks use `net.Socket`.
 * `NODE_DEBUG=healthcheck` logs the choice; `LBKIT_HEALTHCHECK_TRANSPORT=net` forces `net.Socket`.
 */
import { closeSync } from "node:fs";
import util from "node:util";
import {
  probeTcpWrap,
  processTcpWrapSource,
  type TcpHandle,
  type TcpReq,
  type TcpWrap,
  type TcpWrapSource,
  UV_EOF,
} from "@lbkit/core";
import type { ConnectionEvents, ConnectionPhase } from "./connection.js";

/** The transport plain (non-TLS) checks to an IP address use: `tcp-handle` (lean) or `net` (net.Socket). */
export interface CheckTransport {
  name: "tcp-handle" | "net";
  /** Why this one (for `net`: why the lean transport is not available). */
  reason: string;
}

type Handle = TcpHandle & { [CONN]?: HandleConnection };
type Req = TcpReq & { handle?: Handle; async?: boolean; buffer?: Uint8Array | undefined };
type Bindings = TcpWrap;

const CONN: unique symbol = Symbol("healthcheck.connection");
const debug = util.debuglog("healthcheck");

/** What the probe looks at: the process, or a stand-in in tests. */
export type TransportSource = TcpWrapSource;

export interface Probe {
  bindings: Bindings | undefined;
  info: CheckTransport;
}

let probed: Probe | undefined;

/** Which transport plain checks use, and why (probed once, on first use). */
export function checkTransport(): CheckTransport {
  return probe().info;
}

function probe(): Probe {
  if (probed) return probed;
  probed = probeTransport(processTcpWrapSource());
  debug("check transport: %s (%s)", probed.info.name, probed.info.reason);
  return probed;
}

/** Probes `src` for the lean transport's bindings (`@lbkit/core`'s probe); never throws. */
export function probeTransport(src: TransportSource): Probe {
  if (src.env.LBKIT_HEALTHCHECK_TRANSPORT === "net")
    return {
      bindings: undefined,
      info: { name: "net", reason: "LBKIT_HEALTHCHECK_TRANSPORT=net asks for net.Socket" },
    };
  const p = probeTcpWrap(src);
  if (p.bindings === undefined) return { bindings: undefined, info: { name: "net", reason: p.reason } };
  return {
    bindings: p.bindings,
    info: { name: "tcp-handle", reason: "libuv's TCP handle (tcp_wrap), no net.Socket per check" },
  };
}

/** The lean bindings, or undefined when checks must use `net.Socket`. */
export function tcpHandleBindings(): Bindings | undefined {
  return (forced ?? probe()).bindings;
}

let forced: Probe | undefined;
/** Tests: run checks over `net.Socket` (`net`) or the probed transport (undefined). */
export function forceTransport(name: "net" | undefined): void {
  forced = name === "net" ? { bindings: undefined, info: { name: "net", reason: "forced" } } : undefined;
}

function errnoError(status: number): NodeJS.ErrnoException {
  let code: string;
  try {
    code = util.getSystemErrorName(status);
  } catch {
    code = `E${-status}`;
  }
  const err: NodeJS.ErrnoException = new Error(code);
  err.code = code;
  err.errno = status;
  return err;
}

/** One check's connection over a bare TCP handle. */
export class HandleConnection {
  phase: ConnectionPhase = "connecting";
  private closed = false;
  private readonly handle: Handle;

  constructor(
    private readonly b: Bindings,
    host: string,
    ipv6: boolean,
    port: number,
    private readonly on: ConnectionEvents,
    /**
     * A quiet socket to connect with (quiet-socket.ts: a plain connect check), or -1. The handle owns it once
     * `open` took it; closing it then sends a RST (its zero linger), as the check's end should.
     */
    quietFd = -1,
  ) {
    const handle = new b.TCP(b.SOCKET) as Handle;
    this.handle = handle;
    handle[CONN] = this;
    if (quietFd >= 0 && adopt(handle, quietFd) !== 0) closeSync(quietFd); // connects with a socket of its own
    const req = new b.TCPConnectWrap() as Req;
    req.oncomplete = afterConnect as Req["oncomplete"];
    const err = ipv6 ? handle.connect6(req, host, port) : handle.connect(req, host, port);
    if (err < 0) process.nextTick(failLater, this, err);
  }

  get tcpUp(): boolean {
    return this.phase !== "connecting";
  }

  write(data: Uint8Array): void {
    if (this.closed) return;
    const req = new this.b.WriteWrap() as Req;
    req.handle = this.handle;
    req.oncomplete = afterWrite as Req["oncomplete"];
    req.async = false;
    req.buffer = data; // held until the write completes
    const err = this.handle.writeBuffer(req, data);
    if (err < 0) process.nextTick(failLater, this, err);
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
  }

  /** @internal */
  connected(status: number): void {
    if (this.closed) return;
    if (status < 0) {
      this.fail(status);
      return;
    }
    this.phase = "ready";
    this.on.ready();
    if (this.closed) return; // settled on connect (a plain connect check)
    this.handle.onread = onRead;
    const err = this.handle.readStart();
    if (err < 0) this.fail(err);
  }

  /** @internal */
  read(buf: ArrayBuffer | undefined): void {
    const { state, kReadBytesOrError, kArrayBufferOffset } = this.b;
    const nread = state[kReadBytesOrError]!;
    if (this.closed) return;
    if (nread > 0 && buf) {
      this.on.data(Buffer.from(buf, state[kArrayBufferOffset], nread));
      return;
    }
    if (nread === 0) return;
    if (nread === UV_EOF) {
      this.on.end();
      return;
    }
    this.fail(nread);
  }

  /** @internal */
  fail(status: number): void {
    if (this.closed) return;
    const phase = this.phase;
    this.destroy();
    this.on.error(errnoError(status), phase);
  }
}

/** `handle.open(fd)`: 0, or non-zero when the handle could not take the descriptor (which stays the caller's). */
function adopt(handle: Handle, fd: number): number {
  try {
    return handle.open(fd);
  } catch {
    return -1;
  }
}

function failLater(c: HandleConnection, status: number): void {
  c.fail(status);
}

function afterConnect(status: number, handle: Handle): void {
  handle[CONN]?.connected(status);
}

function afterWrite(this: Req, status: number): void {
  this.buffer = undefined;
  if (status < 0 && this.handle) this.handle[CONN]?.fail(status);
}

function onRead(this: Handle, buf: ArrayBuffer | undefined): undefined {
  this[CONN]?.read(buf);
}
