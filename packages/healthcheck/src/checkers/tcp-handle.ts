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
import util from "node:util";
import type { ConnectionEvents, ConnectionPhase } from "./connection.js";

/** The transport plain (non-TLS) checks to an IP address use: `tcp-handle` (lean) or `net` (net.Socket). */
export interface CheckTransport {
  name: "tcp-handle" | "net";
  /** Why this one (for `net`: why the lean transport is not available). */
  reason: string;
}

interface Handle {
  connect(req: object, address: string, port: number): number;
  connect6(req: object, address: string, port: number): number;
  writeBuffer(req: object, data: Uint8Array): number;
  readStart(): number;
  close(cb?: () => void): void;
  onread: ((this: Handle, buf: ArrayBuffer | undefined) => void) | null;
  [CONN]?: HandleConnection;
}
interface Req {
  oncomplete: (...args: never[]) => void;
  handle?: Handle;
  async?: boolean;
  buffer?: Uint8Array;
}
interface Bindings {
  TCP: new (type: number) => Handle;
  TCPConnectWrap: new () => Req;
  WriteWrap: new () => Req;
  SOCKET: number;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

const CONN: unique symbol = Symbol("healthcheck.connection");
/** libuv's UV_EOF, the same on every platform (`UV__EOF`). */
const UV_EOF = -4095;
const debug = util.debuglog("healthcheck");

/** What the probe looks at: the process, or a stand-in in tests. */
export interface TransportSource {
  env: Record<string, string | undefined>;
  execArgv: readonly string[];
  binding: ((name: string) => Record<string, unknown>) | undefined;
}

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
  const binding = (process as unknown as { binding?: TransportSource["binding"] }).binding;
  probed = probeTransport({
    env: process.env,
    execArgv: process.execArgv,
    binding: typeof binding === "function" ? binding.bind(process) : undefined,
  });
  debug("check transport: %s (%s)", probed.info.name, probed.info.reason);
  return probed;
}

/** Probes `src` for the lean transport's bindings; never throws. */
export function probeTransport(src: TransportSource): Probe {
  try {
    return {
      bindings: load(src),
      info: { name: "tcp-handle", reason: "libuv's TCP handle (tcp_wrap), no net.Socket per check" },
    };
  } catch (err) {
    return {
      bindings: undefined,
      info: { name: "net", reason: err instanceof Error ? err.message : String(err) },
    };
  }
}

function load({ env, execArgv, binding }: TransportSource): Bindings {
  if (env.LBKIT_HEALTHCHECK_TRANSPORT === "net") {
    throw new Error("LBKIT_HEALTHCHECK_TRANSPORT=net asks for net.Socket");
  }
  if (
    execArgv.includes("--pending-deprecation") ||
    env.NODE_PENDING_DEPRECATION === "1" ||
    /(^|\s)--pending-deprecation(\s|$)/.test(env.NODE_OPTIONS ?? "")
  ) {
    throw new Error("--pending-deprecation is on, where process.binding() warns (DEP0111): using net.Socket");
  }
  if (!binding) throw new Error("process.binding() is not available: using net.Socket");
  const tcp = binding("tcp_wrap");
  const stream = binding("stream_wrap");
  const b = {
    TCP: tcp.TCP,
    TCPConnectWrap: tcp.TCPConnectWrap,
    SOCKET: (tcp.constants as { SOCKET?: unknown } | undefined)?.SOCKET,
    WriteWrap: stream.WriteWrap,
    state: stream.streamBaseState,
    kReadBytesOrError: stream.kReadBytesOrError,
    kArrayBufferOffset: stream.kArrayBufferOffset,
    kLastWriteWasAsync: stream.kLastWriteWasAsync,
  };
  const missing = Object.entries(b)
    .filter(([k, x]) =>
      k === "state"
        ? !(x instanceof Int32Array)
        : typeof x !== (k === "SOCKET" || k.startsWith("k") ? "number" : "function"),
    )
    .map(([k]) => k);
  if (missing.length) {
    throw new Error(`the tcp_wrap/stream_wrap bindings lack ${missing.join(", ")}: using net.Socket`);
  }
  const ok = b as unknown as Bindings;
  const h = new ok.TCP(ok.SOCKET);
  const methods = ["connect", "connect6", "writeBuffer", "readStart", "close"] as const;
  const lacking = methods.filter((m) => typeof h[m] !== "function");
  h.close();
  if (lacking.length) throw new Error(`the TCP handle lacks ${lacking.join(", ")}: using net.Socket`);
  return ok;
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
  ) {
    const handle = new b.TCP(b.SOCKET);
    this.handle = handle;
    handle[CONN] = this;
    const req = new b.TCPConnectWrap();
    req.oncomplete = afterConnect;
    const err = ipv6 ? handle.connect6(req, host, port) : handle.connect(req, host, port);
    if (err < 0) process.nextTick(failLater, this, err);
  }

  get tcpUp(): boolean {
    return this.phase !== "connecting";
  }

  write(data: Uint8Array): void {
    if (this.closed) return;
    const req = new this.b.WriteWrap();
    req.handle = this.handle;
    req.oncomplete = afterWrite;
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

function onRead(this: Handle, buf: ArrayBuffer | undefined): void {
  this[CONN]?.read(buf);
}
