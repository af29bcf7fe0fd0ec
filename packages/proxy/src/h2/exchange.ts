/**
 * One HTTP/2 stream proxied to an HTTP/1.1 server (the shell): the request converted and checked (request.ts),
 * parsed again by the strict HTTP/1.1 head parser, routed by the frontend's rules, a server leased from the
 * backend (queued in its FIFO queue at maxconn, as HTTP/1.1 requests are), a connection from the server's keep-alive pool (shared
 * with HTTP/1.1 traffic; idempotent requests reuse a warm one, and are sent once more on a fresh one if it turns
 * out closed before any response), the request body streamed with DATA counted against Content-Length, the
 * response head parsed strictly and relayed without its hop-by-hop fields, the body de-chunked into DATA.
 * Timeouts: the frontend's `client` on the stream, the backend's `connect` then `server` on the upstream.
 * Over 350 lines: like l7.ts, it is one state machine (per stream), and its transitions read best together.
 */
import http2 from "node:http2";
import type net from "node:net";
import type { Lease, PickContext } from "@lbkit/balancer";
import type { Backend, QueueClient, ServerMeta } from "../backend.js";
import { ProxyError } from "../errors.js";
import { ChunkedBody } from "../http/body.js";
import { serialiseRequest } from "../http/forward.js";
import { parseRequestHead } from "../http/request.js";
import { parseResponseHead } from "../http/response.js";
import { DEFAULT_HEAD_LIMITS } from "../http/scan.js";
import type { RequestHead, ResponseHead } from "../http/types.js";
import { frontendHeaderRules, routingHost } from "../l7-local.js";
import type { Waiter } from "../queue.js";
import { isIdempotent } from "../retry.js";
import type { FrontendRuntime, ProxyCore } from "../shell.js";
import { type UpstreamConn, type UpstreamOwner, UpstreamPool } from "../upstream.js";
import { Dechunker } from "./dechunk.js";
import { h2ToHttp1 } from "./request.js";

const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);
const { NGHTTP2_PROTOCOL_ERROR, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;

export class H2Exchange implements UpstreamOwner, QueueClient {
  pickContext: PickContext = {};
  readonly avoid = undefined;
  private waiter: Waiter<QueueClient> | undefined;
  private up: net.Socket | undefined;
  private conn: UpstreamConn | undefined;
  private head: Buffer | undefined;
  private reused = false;
  private retried = false;
  private reqDone = false;
  private lease: Lease<ServerMeta> | undefined;
  private backend: Backend | undefined;
  private req: RequestHead | undefined;
  private sentBody = 0;
  private contentLength: number | undefined;
  private chunked = false;
  private resBuf: Buffer = Buffer.alloc(0);
  private res: ResponseHead | undefined;
  private resLeft = 0;
  private dechunk: Dechunker | undefined;
  private check: ChunkedBody | undefined;
  private status: number | undefined;
  private termination = "--";
  private done = false;
  private readonly startedAt: number;

  constructor(
    private readonly core: ProxyCore,
    private readonly fe: FrontendRuntime,
    private readonly stream: http2.ServerHttp2Stream,
    rawHeaders: string[],
    endStream: boolean,
    private readonly source: string,
  ) {
    this.startedAt = core.clock.now();
    stream.on("error", () => {});
    stream.on("close", () => this.onStreamClose());
    stream.setTimeout(fe.cfg.timeouts.client, () => {
      if (!this.waiter) this.fail("cD", NGHTTP2_CANCEL); // while queued, `timeout queue` decides
    });
    const conv = h2ToHttp1(rawHeaders, endStream);
    if (!conv.ok) {
      this.reset("PR", NGHTTP2_PROTOCOL_ERROR);
      return;
    }
    const limits = { ...DEFAULT_HEAD_LIMITS, maxHeadSize: fe.cfg.maxHeadSize };
    const r = parseRequestHead(conv.head, limits);
    if (r.kind !== "head") {
      this.answer(r.kind === "error" ? r.status : 400, "PR");
      return;
    }
    this.req = r.head;
    this.contentLength = conv.contentLength;
    this.chunked = conv.chunked;
    if (endStream && (conv.contentLength ?? 0) !== 0) {
      this.reset("PR", NGHTTP2_PROTOCOL_ERROR); // content-length announced, no DATA
      return;
    }
    const req = r.head;
    const id = fe.router.route({
      source,
      method: req.method,
      host: routingHost(req),
      path: req.path,
      query: req.query ?? "",
      header: (n: string) => req.get(n),
    });
    this.backend = id === undefined ? undefined : core.backend(id);
    if (!this.backend) {
      this.answer(503, "RR");
      return;
    }
    this.pickContext = { source, uri: req.target, headers: { get: (n: string) => req.get(n) } };
    const got = this.backend.acquire(this.pickContext);
    if (got === "none") {
      this.answer(503, "SC");
      return;
    }
    if (got === "full") {
      // the backend's FIFO queue, `timeout queue` and `maxqueue`, as HTTP/1.1 requests wait
      this.waiter = this.backend.enqueue(this);
      if (!this.waiter) this.answer(503, "sQ");
      return;
    }
    this.connect(got);
  }

  granted(lease: Lease<ServerMeta>): void {
    this.waiter = undefined;
    if (this.done) {
      (this.backend as Backend).finish(lease, { ok: true, code: "client-abort" });
      return;
    }
    this.connect(lease);
  }

  expired(): void {
    this.waiter = undefined;
    this.answer(503, "sQ");
  }

  private connect(lease: Lease<ServerMeta>): void {
    this.lease = lease;
    const meta = lease.server.meta as ServerMeta;
    const be = this.backend as Backend;
    let pool = be.attachments.get(lease.server.id) as UpstreamPool | undefined;
    if (!pool) {
      pool = new UpstreamPool({
        address: meta.address,
        port: meta.port,
        ...be.cfg.keepAlive,
        ...(meta.tls ? { tls: meta.tls } : {}),
        clock: this.core.clock,
        timers: this.core.timers,
      });
      be.attachments.set(lease.server.id, pool);
    }
    const req = this.req as RequestHead;
    this.head = serialiseRequest(
      req,
      { connection: "keep-alive", clientAddress: this.source, proto: "https" },
      frontendHeaderRules(this.fe.cfg),
    );
    this.open(pool, isIdempotent(req.method));
    this.stream.on("data", (d: Buffer) => this.onData(d));
    this.stream.on("end", () => this.onEnd());
  }

  /** A connection from the server's keep-alive pool (warm when `reuse`), the request head written to it. */
  private open(pool: UpstreamPool, reuse: boolean): void {
    const be = this.backend as Backend;
    const c = pool.take(this, reuse, be.cfg.timeouts.connect);
    this.conn = c;
    this.up = c.socket;
    this.reused = c.connected;
    if (c.connected) c.idle(be.cfg.timeouts.server);
    c.socket.write(this.head as Buffer);
  }

  onUpstreamConnect(c: UpstreamConn): void {
    if (c === this.conn) c.idle((this.backend as Backend).cfg.timeouts.server);
  }

  onUpstreamData(c: UpstreamConn, d: Buffer): void {
    if (c === this.conn) this.onResponseBytes(d);
  }

  onUpstreamEnd(c: UpstreamConn): void {
    if (c === this.conn) this.onUpstreamClose();
  }

  onUpstreamClose(c?: UpstreamConn): void {
    if (c !== undefined && c !== this.conn) return;
    if (this.done) return;
    if (this.res && this.resLeft === -1 && !this.dechunk) {
      this.finish(); // an until-close body ended
      return;
    }
    // a kept-alive connection the server closed as the request went out: once more on a fresh one, when the
    // request can be replayed (nothing of a body sent yet)
    if (!this.res && this.reused && !this.retried && this.sentBody === 0 && this.conn) {
      this.retried = true;
      const pool = this.conn.pool;
      this.conn.drop();
      this.open(pool, false);
      return;
    }
    this.fail(this.res ? "SD" : "SH", NGHTTP2_CANCEL, 502);
  }

  onUpstreamTimeout(c: UpstreamConn): void {
    if (c === this.conn) this.fail(this.res ? "sD" : "sH", NGHTTP2_CANCEL, 504);
  }

  /** A handler above threw (a bug): the stream is reset (termination I) and the error reported. */
  onUpstreamFailure(e: unknown): void {
    this.core.error(
      new ProxyError(
        `proxy: internal error in an HTTP/2 stream: ${(e as Error)?.message ?? e}`,
        "ERR_INTERNAL",
        {
          cause: e,
        },
      ),
    );
    this.reset("ID", NGHTTP2_INTERNAL_ERROR);
  }

  onUpstreamDrain(c: UpstreamConn): void {
    if (c === this.conn) this.stream.resume();
  }

  private onData(d: Buffer): void {
    this.sentBody += d.length;
    if (this.contentLength !== undefined && this.sentBody > this.contentLength) {
      this.reset("PR", NGHTTP2_PROTOCOL_ERROR); // more DATA than content-length
      return;
    }
    const up = this.up as net.Socket;
    const ok = this.chunked
      ? up.write(`${d.length.toString(16)}\r\n`) && up.write(d) && up.write("\r\n")
      : up.write(d);
    if (!ok) this.stream.pause();
  }

  private onEnd(): void {
    if (this.contentLength !== undefined && this.sentBody !== this.contentLength) {
      this.reset("PR", NGHTTP2_PROTOCOL_ERROR); // less DATA than content-length
      return;
    }
    this.reqDone = true;
    if (this.chunked) this.up?.write("0\r\n\r\n");
  }

  private onResponseBytes(d: Buffer): void {
    if (this.done) return;
    if (!this.res) {
      this.resBuf = this.resBuf.length ? Buffer.concat([this.resBuf, d]) : d;
      for (;;) {
        const r = parseResponseHead(this.resBuf, DEFAULT_HEAD_LIMITS, this.req as RequestHead);
        if (r.kind === "incomplete") return;
        if (r.kind === "error") {
          this.fail("PH", NGHTTP2_CANCEL, 502);
          return;
        }
        this.resBuf = this.resBuf.subarray(r.length);
        if (r.head.informational) continue; // 1xx are not relayed over HTTP/2 here
        this.respond(r.head);
        break;
      }
      const rest = this.resBuf;
      this.resBuf = Buffer.alloc(0);
      if (rest.length > 0) this.body(rest);
      return;
    }
    this.body(d);
  }

  private respond(head: ResponseHead): void {
    this.res = head;
    this.status = head.status;
    const out: http2.OutgoingHttpHeaders = { ":status": head.status };
    const h = head.headers;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i] as string;
      if (HOP.has(name)) continue;
      const prev = out[name];
      out[name] =
        prev === undefined
          ? (h[i + 1] as string)
          : ([] as string[]).concat(prev as string, h[i + 1] as string);
    }
    const f = head.framing;
    const empty = f.kind === "none" || (f.kind === "length" && f.n === 0);
    this.stream.respond(out, { endStream: empty });
    if (empty) {
      this.finish();
      return;
    }
    if (f.kind === "length") this.resLeft = f.n;
    else if (f.kind === "chunked") {
      this.dechunk = new Dechunker();
      this.check = new ChunkedBody();
    } else this.resLeft = -1; // until close
  }

  private body(d: Buffer): void {
    const up = this.up as net.Socket;
    let ok = true;
    if (this.dechunk) {
      const check = this.check as ChunkedBody;
      const n = check.feed(d, 0);
      if (check.error !== undefined) {
        this.fail("SD", NGHTTP2_CANCEL);
        return;
      }
      for (const part of this.dechunk.feed(d.subarray(0, n))) ok = this.stream.write(part) && ok;
      if (check.done) {
        this.finish();
        return;
      }
    } else if (this.resLeft >= 0) {
      const part = d.subarray(0, this.resLeft);
      this.resLeft -= part.length;
      ok = this.stream.write(part);
      if (this.resLeft === 0) {
        this.finish();
        return;
      }
    } else ok = this.stream.write(d);
    if (!ok) {
      up.pause();
      this.stream.once("drain", () => up.resume());
    }
  }

  private onStreamClose(): void {
    if (this.done) return;
    // nghttp2 itself resets a stream whose DATA overruns its content-length (PROTOCOL_ERROR): a refused request
    this.termination = this.stream.rstCode === NGHTTP2_PROTOCOL_ERROR ? "PR" : "CD";
    this.end(false);
  }

  private finish(): void {
    if (this.done) return;
    const c = this.conn;
    this.conn = undefined;
    if (c) {
      // kept for the next request when both messages are complete and the server allows it
      if (this.reqDone && this.res?.keepAlive === true && !c.spoiled && this.resLeft !== -1)
        c.pool.release(c);
      else c.drop();
      this.up = undefined;
    }
    this.stream.end();
    this.end(true);
  }

  /** Answer with a small error response when nothing was sent yet, else reset the stream. */
  private fail(termination: string, code: number, status = 502): void {
    if (this.done) return;
    if (!this.res && !this.stream.headersSent) {
      this.answer(status, termination);
      return;
    }
    this.reset(termination, code);
  }

  private answer(status: number, termination: string): void {
    this.termination = termination;
    this.status = status;
    if (!this.stream.destroyed && !this.stream.headersSent) {
      const body = `${status}\n`;
      this.stream.respond({ ":status": status, "content-type": "text/plain", "content-length": body.length });
      this.stream.end(body);
    }
    this.end(false);
  }

  private reset(termination: string, code: number): void {
    this.termination = termination;
    if (!this.stream.destroyed) this.stream.close(code);
    this.end(false);
  }

  private end(ok: boolean): void {
    if (this.done) return;
    this.done = true;
    if (this.waiter) this.backend?.cancelQueued(this.waiter);
    this.waiter = undefined;
    this.conn?.drop();
    this.conn = undefined;
    this.up = undefined;
    const lease = this.lease;
    this.lease = undefined;
    const serverFault = this.termination[0] === "S" || this.termination[0] === "s";
    if (lease && this.backend)
      this.backend.finish(lease, {
        ok: ok || !serverFault,
        ...(this.status ? { status: this.status } : {}),
        latencyMs: this.core.clock.now() - this.startedAt,
      });
    if (!this.core.wantsLog("request")) return;
    const now = this.core.clock.now();
    this.core.log("request", {
      frontend: this.fe.cfg.id,
      backend: this.backend?.id,
      server: lease?.server.id,
      client: this.source,
      clientPort: 0, // the h2 session's, not tracked per stream
      status: this.status,
      termination: this.termination,
      retries: 0,
      redispatches: 0,
      queuePos: -1,
      duration: now - this.startedAt,
      at: Date.now() - (now - this.startedAt),
      timers: { request: 0, queue: -1, connect: -1, response: -1, total: now - this.startedAt },
      bytesIn: this.sentBody,
      bytesOut: 0,
      ...(this.req ? { method: this.req.method, path: this.req.path } : {}),
    });
  }
}
