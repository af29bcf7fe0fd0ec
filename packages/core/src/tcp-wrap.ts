/**
 * libuv's TCP handle, reached the way Node's own `net.js` reaches it: the `tcp_wrap` binding's `TCP` and
 * `TCPConnectWrap`, `stream_wrap`'s `WriteWrap`, `ShutdownWrap` and shared read/write state. A data path that
 * drives these directly skips `net.Socket`'s stream machinery (a Writable and a Readable per connection, a
 * buffer and an event per read), which costs more CPU than the system calls on a busy proxy or checker.
 *
 * The bindings come from `process.binding()`, deprecated in the documentation only (DEP0111): it warns only
 * under `--pending-deprecation`, where they are not used. They are probed once; when a piece is missing or
 * behaves unexpectedly the probe says why and callers keep `net.Socket`. Internal API of lbkit packages.
 */

/** A TCP handle (`tcp_wrap`'s `TCP`), as far as lbkit drives it. */
export interface TcpHandle {
  connect(req: object, address: string, port: number): number;
  connect6(req: object, address: string, port: number): number;
  writeBuffer(req: object, data: Uint8Array): number;
  writev(req: object, chunks: Uint8Array[], allBuffers: boolean): number;
  shutdown(req: object): number;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buf: Uint8Array): void;
  setNoDelay(on: boolean): number;
  getpeername(out: Record<string, unknown>): number;
  getsockname(out: Record<string, unknown>): number;
  close(cb?: () => void): void;
  /** Adopts an unconnected socket descriptor (uv_tcp_open); 0 or a negative errno (the fd stays the caller's). */
  open(fd: number): number;
  readonly writeQueueSize: number;
  /** The socket's descriptor (-1 once closed; on Windows always -1). */
  readonly fd: number;
  onread: ((this: TcpHandle, buf: ArrayBuffer | undefined) => Uint8Array | undefined) | null;
  onconnection?: (err: number, handle: TcpHandle | undefined) => void;
}

/** A request object (connect, write or shutdown) the handle completes asynchronously. */
export interface TcpReq {
  oncomplete: (...args: never[]) => void;
  handle?: TcpHandle;
  buffer?: unknown;
}

export interface TcpWrap {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => TcpReq;
  WriteWrap: new () => TcpReq;
  ShutdownWrap: new () => TcpReq;
  /** `tcp_wrap` constant for a connection (not a listener) handle. */
  SOCKET: number;
  /** Shared state the handle fills: bytes read (or an error) for `onread`, whether the last write queued. */
  state: Int32Array;
  kReadBytesOrError: number;
  /** Where a read's bytes start in the ArrayBuffer `onread` gets (reads without `useUserBuffer`). */
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

/** What the probe looks at: the process, or a stand-in in tests. */
export interface TcpWrapSource {
  env: Record<string, string | undefined>;
  execArgv: readonly string[];
  binding: ((name: string) => Record<string, unknown>) | undefined;
}

export type TcpWrapProbe = { bindings: TcpWrap; reason: string } | { bindings: undefined; reason: string };

/** libuv's UV_EOF, the same on every platform (`UV__EOF`). */
export const UV_EOF = -4095;

/** Probes `src` for the bindings; never throws. `reason` says what was found, or why they are not used. */
export function probeTcpWrap(src: TcpWrapSource): TcpWrapProbe {
  try {
    return { bindings: load(src), reason: "libuv's TCP handle (tcp_wrap), no net.Socket" };
  } catch (err) {
    return { bindings: undefined, reason: err instanceof Error ? err.message : String(err) };
  }
}

let probed: TcpWrapProbe | undefined;

/** What the probe looks at in this process. */
export function processTcpWrapSource(): TcpWrapSource {
  const binding = (process as unknown as { binding?: TcpWrapSource["binding"] }).binding;
  return {
    env: process.env,
    execArgv: process.execArgv,
    binding: typeof binding === "function" ? binding.bind(process) : undefined,
  };
}

/** The process's bindings, probed once. */
export function tcpWrap(): TcpWrapProbe {
  probed ??= probeTcpWrap(processTcpWrapSource());
  return probed;
}

const FUNCTIONS = ["TCP", "TCPConnectWrap", "WriteWrap", "ShutdownWrap"] as const;
const NUMBERS = ["SOCKET", "kReadBytesOrError", "kArrayBufferOffset", "kLastWriteWasAsync"] as const;
const METHODS = [
  "connect",
  "connect6",
  "writeBuffer",
  "writev",
  "shutdown",
  "readStart",
  "readStop",
  "useUserBuffer",
  "setNoDelay",
  "getpeername",
  "getsockname",
  "close",
] as const;

function load({ env, execArgv, binding }: TcpWrapSource): TcpWrap {
  if (
    execArgv.includes("--pending-deprecation") ||
    env.NODE_PENDING_DEPRECATION === "1" ||
    /(^|\s)--pending-deprecation(\s|$)/.test(env.NODE_OPTIONS ?? "")
  )
    throw new Error("--pending-deprecation is on, where process.binding() warns (DEP0111): using net.Socket");
  if (!binding) throw new Error("process.binding() is not available: using net.Socket");
  const tcp = binding("tcp_wrap");
  const stream = binding("stream_wrap");
  const b: Record<string, unknown> = {
    TCP: tcp.TCP,
    TCPConnectWrap: tcp.TCPConnectWrap,
    SOCKET: (tcp.constants as { SOCKET?: unknown } | undefined)?.SOCKET,
    WriteWrap: stream.WriteWrap,
    ShutdownWrap: stream.ShutdownWrap,
    state: stream.streamBaseState,
    kReadBytesOrError: stream.kReadBytesOrError,
    kArrayBufferOffset: stream.kArrayBufferOffset,
    kLastWriteWasAsync: stream.kLastWriteWasAsync,
  };
  const missing = [
    ...FUNCTIONS.filter((k) => typeof b[k] !== "function"),
    ...NUMBERS.filter((k) => typeof b[k] !== "number"),
    ...(b.state instanceof Int32Array ? [] : ["streamBaseState"]),
  ];
  if (missing.length > 0)
    throw new Error(`the tcp_wrap/stream_wrap bindings lack ${missing.join(", ")}: using net.Socket`);
  const ok = b as unknown as TcpWrap;
  const h = new ok.TCP(ok.SOCKET);
  const lacking = METHODS.filter((m) => typeof (h as unknown as Record<string, unknown>)[m] !== "function");
  h.close();
  if (lacking.length > 0) throw new Error(`the TCP handle lacks ${lacking.join(", ")}: using net.Socket`);
  return ok;
}
