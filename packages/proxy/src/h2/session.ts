/**
 * HTTP/2 on a TLS listener (ALPN h2): the TLS socket is handed to a node:http2 server (one per frontend, never
 * listening itself); each stream becomes an H2Exchange to the HTTP/1.1 servers. Sessions are tracked so a
 * graceful stop sends GOAWAY (`close`) and a kill destroys them.
 */
import http2 from "node:http2";
import type { Duplex } from "node:stream";
import type tls from "node:tls";
import type { ClientPeer } from "../proxy-protocol/peer.js";
import type { FrontendRuntime, ProxyCore, Tracked } from "../shell.js";
import { streamOver } from "../tls/terminator.js";
import { H2Exchange } from "./exchange.js";

const servers = new WeakMap<FrontendRuntime, http2.Http2Server>();
const peers = new WeakMap<http2.Http2Session, ClientPeer>();
const NO_PEER: ClientPeer = { address: "", port: 0, localAddress: "", localPort: 0 };
/** The client of the connection being handed over (the 'session' event fires synchronously in emit). */
let handing: ClientPeer = NO_PEER;

/** A session in the proxy's connection list. An instance, not a literal: see close-hooks.ts. */
class TrackedSession implements Tracked {
  trackPos = -1;
  constructor(private readonly session: http2.ServerHttp2Session) {}
  drain(): void {
    this.session.close();
  }
  kill(): void {
    this.session.destroy();
  }
  holds(): boolean {
    return false;
  }
}

function serverFor(core: ProxyCore, fe: FrontendRuntime): http2.Http2Server {
  let s = servers.get(fe);
  if (s) return s;
  s = http2.createServer({
    settings: { enablePush: false, maxConcurrentStreams: 128, maxHeaderListSize: fe.cfg.maxHeadSize },
    maxHeaderListPairs: 256,
  });
  s.on("session", (session: http2.ServerHttp2Session) => {
    peers.set(session, handing);
    const t = new TrackedSession(session);
    core.track(t);
    session.on("close", () => core.untrack(t));
    session.on("error", () => {});
    session.setTimeout(fe.cfg.timeouts.httpKeepAlive, () => session.close());
  });
  s.on("stream", (stream: http2.ServerHttp2Stream, _h: unknown, flags: number, rawHeaders: string[]) => {
    const peer = (stream.session && peers.get(stream.session)) || NO_PEER;
    new H2Exchange(
      core,
      fe,
      stream,
      rawHeaders,
      (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0,
      peer,
    );
  });
  servers.set(fe, s);
  return s;
}

/** Serves an h2-negotiated TLS connection; `peer` is the client (from the socket or a PROXY header). */
export function serveH2(core: ProxyCore, fe: FrontendRuntime, socket: tls.TLSSocket, peer: ClientPeer): void {
  // node:http2 does not take over the stream of a TLSSocket wrapped outside a tls.Server (its bytes keep going
  // to the socket's JS side): it gets a plain Duplex over the TLSSocket instead
  const d = streamOver(socket) as Duplex & { alpnProtocol?: string };
  d.alpnProtocol = "h2";
  handing = peer;
  serverFor(core, fe).emit("connection", d);
  handing = NO_PEER;
}
