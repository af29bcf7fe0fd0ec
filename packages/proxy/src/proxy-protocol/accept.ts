/**
 * The accepting side's shell (HAProxy `accept-proxy`): reads a PROXY v1/v2 header off a new connection before
 * the L4/L7 session (or the TLS handshake) starts, then hands over the socket — paused — with any bytes read
 * after the header and the client endpoints the header carries. A malformed header, a timeout or an early
 * close is reported to `done` as a failure and the socket destroyed. Connections from outside `trusted`
 * (when set) are not expected to send a header: they are served with their own address.
 */
import { Buffer } from "node:buffer";
import type net from "node:net";
import { type Cidr, cidrContains, parseIp, unmapIPv4 } from "@lbkit/core";
import type { NormalFrontend } from "../config.js";
import type { ProxyCore } from "../shell.js";
import { decodeProxyHeader } from "./index.js";
import { type ClientPeer, headerPeer, socketPeer } from "./peer.js";

export interface AcceptProxyConfig {
  /** Only these networks must send a header; undefined = every client must. */
  trusted: readonly Cidr[] | undefined;
  /** Longest wait for the whole header, ms. */
  timeout: number;
}

/** Why reading the header failed, as a termination cause letter: P malformed, c timeout, C client closed. */
export type AcceptFailure = { cause: "P" | "c" | "C"; reason: string };

export function isTrusted(cfg: AcceptProxyConfig, address: string | undefined): boolean {
  if (cfg.trusted === undefined) return true;
  const ip = address === undefined ? undefined : parseIp(address);
  if (!ip) return false;
  const bytes = unmapIPv4(ip).bytes;
  return cfg.trusted.some((c) => cidrContains(c, bytes));
}

export function acceptProxyHeader(
  socket: net.Socket,
  cfg: AcceptProxyConfig,
  /** `rest`: bytes read past the header, for the caller to put back (unshift) or hand to a TLS layer. */
  done: (peer: ClientPeer | AcceptFailure, rest?: Buffer) => void,
): void {
  const own = socketPeer(socket);
  if (!isTrusted(cfg, socket.remoteAddress)) {
    done(own);
    return;
  }
  let buf: Buffer = Buffer.alloc(0);
  let over = false;
  const finish = (r: ClientPeer | AcceptFailure, rest?: Buffer) => {
    if (over) return;
    over = true;
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("close", onEnd);
    socket.off("timeout", onTimeout);
    socket.setTimeout(0);
    socket.pause();
    if ("cause" in r) socket.destroy();
    done(r, rest);
  };
  const onData = (d: Buffer) => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    const r = decodeProxyHeader(buf);
    if (r.kind === "incomplete") return;
    if (r.kind === "error") {
      finish({ cause: "P", reason: r.reason });
      return;
    }
    // LOCAL / UNKNOWN: the sender's own connection (e.g. its health check): the real endpoints apply
    finish(headerPeer(r.header) ?? own, buf.subarray(r.length));
  };
  const onEnd = () => finish({ cause: "C", reason: "the client closed before a PROXY header" });
  const onTimeout = () => finish({ cause: "c", reason: "no complete PROXY header in time" });
  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.on("close", onEnd);
  socket.on("timeout", onTimeout);
  socket.on("error", () => {}); // surfaced by 'close'
  socket.setTimeout(cfg.timeout);
  socket.resume();
}

/** The log line of a connection closed for its PROXY header (termination `PR`, `cR` or `CR`). */
export function logHeaderFailure(
  core: ProxyCore,
  fe: NormalFrontend,
  socket: net.Socket,
  failure: AcceptFailure,
): void {
  const kind = fe.mode === "tcp" ? "session" : "request";
  if (!core.wantsLog(kind)) return;
  core.log(kind, {
    frontend: fe.id,
    backend: undefined,
    server: undefined,
    client: socketPeer(socket).address,
    clientPort: socket.remotePort ?? 0,
    status: undefined,
    termination: `${failure.cause}R`,
    retries: 0,
    redispatches: 0,
    queuePos: -1,
    duration: 0,
    at: Date.now(),
    timers: { request: -1, queue: -1, connect: -1, response: -1, total: 0 },
    bytesIn: 0,
    bytesOut: 0,
  });
}
