/**
 * One HTTP/2 stream proxied to an HTTP/1.1 server (the shell): the request converted and checked (request.ts),
 * parsed again by the strict HTTP/1.1 head parser, answered by the stats page or an `http-request`
 * deny/redirect/return when one applies (l7-local, as HTTP/1.1 requests are), routed by the frontend's rules over
 * the same request facts, persisted (cookie / stick table, persistence.ts), placed through the same Dispatch as
 * HTTP/1.1 requests (a server with room, else the queue of the server it is bound to, else the backend's), a
 * connection from the server's keep-alive pool (shared with HTTP/1.1 traffic; idempotent requests reuse a warm
 * one, and are sent once more on a fresh one if it turns out closed before any response), the request body
 * streamed with DATA counted against Content-Length, the response head parsed strictly and relayed without its
 * hop-by-hop fields, with the `http-response` rules and the persistence cookie (response.ts), 1xx relayed as
 * informational HEADERS (100-continue, 103 Early Hints), the body de-chunked into DATA, trailers relayed both
 * ways. A failure before any response byte is retried and redispatched by the backend's policy (retry.ts), as on
 * HTTP/1.1, with HAProxy's turn-around before a retry after a connect error; a body is never replayed (its DATA
 * is read from the first connected upstream on, so a failed connect is always retried).
 * Timeouts: the frontend's `client` on the stream, the backend's `connect` then `server` on the upstream.
 * Over 350 lines: like l7.ts, it is one state machine (per stream), and its transitions read best together.
 */
import { Buffer } from "node:buffer";
import http2 from "node:http2";
import type { Lease, PickContext } from "@lbkit/balancer";
import type { Backend, QueueClient, ServerMeta } from "../backend.js";
import type { Conn } from "../conn.js";
import { Dispatch } from "../dispatch.js";
import { ProxyError } from "../errors.js";
import { ChunkedBody } from "../http/body.js";
import { serialiseRequest } from "../http/forward.js";
import { parseRequestHead } from "../http/request.js";
import { parseResponseHead } from "../http/response.js";
import { DEFAULT_HEAD_LIMITS } from "../http/scan.js";
import type { RequestHead, ResponseHead } from "../http/types.js";
import { frontendHeaderRules, localAnswer, responseAction, responsePlan, routingHost } from "../l7-local.js";
import { captureFrom } from "../log/capture.js";
import { outcome } from "../outcome.js";
import { type Persistence, type PersistRequest, persisted } from "../persist/persistence.js";
import { type ClientPeer, proxyHeaderFor } from "../proxy-protocol/peer.js";
import { type FailureKind, isIdempotent } from "../retry.js";
import type { RequestFacts } from "../route.js";
import type { FrontendRuntime, ProxyCore } from "../shell.js";
import { newTermination, terminationState } from "../termination.js";
import { serverPool, type UpstreamConn, type UpstreamOwner, type UpstreamPool } from "../upstream.js";
import { Dechunker } from "./dechunk.js";
import { h2ToHttp1, http1Trailers } from "./request.js";
import { h2ResponseHeaders, h2Trailers } from "./response.js";

const { NGHTTP2_PROTOCOL_ERROR, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;
const CRLF = Buffer.from("\r\n");

export class H2Exchange implements UpstreamOwner, QueueClient {
  pickContext: PickContext = {};
  /** Placing, queueing and retrying, with their log bookkeeping (shared with HTTP/1.1 and L4). */
  private readonly d = new Dispatch();
  private up: Conn | undefined;
  private conn: UpstreamConn | undefined;
  private head: Buffer | undefined;
  private reused = false;
  /** The warm connection's close was answered by one send on a fresh one (not a retry: nothing reached a server). */
  private retried = false;
  /** Clock readings for the log's timers (HAProxy Tc/Tr; Tw is the Dispatch's), -1 until reached. */
  private tConnect = -1;
  private tSent = -1;
  private tResponse = -1;
  private bytesOut = 0;
  private reqDone = false;
  /** The HEADERS frame ended the stream: the request can be replayed whole. */
  private bodyless = false;
  /** The stream's DATA is being read (from the first connected upstream on). */
  private reading = false;
  private reqTrailers = "";
  private lease: Lease<ServerMeta> | undefined;
  /** The server of the last attempt, logged even when that attempt failed (HAProxy's server name). */
  private serverId: string | undefined;
  private backend: Backend | undefined;
  private req: RequestHead | undefined;
  private facts: RequestFacts | undefined;
  private persist: PersistRequest | undefined;
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
  private readonly source: string;

  constructor(
    private readonly core: ProxyCore,
    private readonly fe: FrontendRuntime,
    private readonly stream: http2.ServerHttp2Stream,
    rawHeaders: string[],
    endStream: boolean,
    /** The client: the TLS connection's peer, or the one its PROXY header named. */
    private readonly peer: ClientPeer,
  ) {
    const source = peer.address;
    this.source = source;
    this.startedAt = core.clock.now();
    stream.on("error", () => {});
    stream.on("close", () => this.onStreamClose());
    stream.setTimeout(fe.cfg.timeouts.client, () => {
      if (!this.d.waiter) this.fail("cD", NGHTTP2_CANCEL); // while queued, `timeout queue` decides
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
    this.bodyless = this.reqDone = endStream;
    if (endStream && (conv.contentLength ?? 0) !== 0) {
      this.reset("PR", NGHTTP2_PROTOCOL_ERROR); // content-length announced, no DATA
      return;
    }
    const req = r.head;
    if (fe.cfg.stats !== undefined && (req.method === "GET" || req.method === "HEAD")) {
      const page = core.statsPage(fe, req, false);
      if (page) {
        this.answerBytes(page.bytes, "--");
        return;
      }
    }
    const facts: RequestFacts = {
      source,
      method: req.method,
      host: routingHost(req),
      path: req.path,
      query: req.query ?? "",
      header: (n: string) => req.get(n),
    };
    this.facts = facts;
    if (fe.cfg.httpRequest.length > 0) {
      const local = localAnswer(fe.cfg.httpRequest, facts, false);
      if (local) {
        this.answerBytes(local.bytes, local.termination === "proxy" ? "PR" : "--");
        return;
      }
    }
    const id = fe.router.route(facts);
    this.backend = id === undefined ? undefined : core.backend(id);
    if (!this.backend) {
      this.answer(503, "RR");
      return;
    }
    this.pickContext = { source, uri: req.target, headers: { get: (n: string) => req.get(n) } };
    this.persist = this.backend.persistence?.request(
      this.pickContext,
      facts,
      req.getAll("cookie"),
      core.clock.now(),
      Date.now(),
    );
    this.stream.on("trailers", (_h: unknown, _f: unknown, raw: string[]) => this.onTrailers(raw));
    this.dispatch();
  }

  /** A server to redispatch away from (set by a retry), as QueueClient. */
  get avoid(): string | undefined {
    return this.d.avoid;
  }

  /**
   * A server for this request: leased now, queued (its bound server's queue, else the backend's; `timeout queue`
   * and `maxqueue`, as HTTP/1.1 requests wait), or a 503 (SC no server, sQ / SQ the queue it needs is full).
   */
  private dispatch(): void {
    const t = newTermination();
    const got = this.d.place(this.backend as Backend, this, t, this.core.clock.now());
    if (got === "none") this.answer(503, "SC");
    else if (got === "full") this.answer(503, terminationState(t));
    else if (got !== "queued") this.connect(got);
  }

  granted(lease: Lease<ServerMeta>): void {
    this.d.dequeued(this.core.clock.now());
    if (this.done) {
      (this.backend as Backend).finish(lease, outcome(true, undefined, "client-abort"));
      return;
    }
    this.connect(lease);
  }

  expired(): void {
    this.d.dequeued(this.core.clock.now());
    this.answer(503, "sQ");
  }

  private connect(lease: Lease<ServerMeta>): void {
    this.lease = lease;
    this.serverId = lease.server.id;
    this.tConnect = this.core.clock.now();
    this.tSent = -1;
    const meta = lease.server.meta as ServerMeta;
    const be = this.backend as Backend;
    const pool = serverPool(
      be.attachments,
      lease.server.id,
      lease.server.meta as ServerMeta,
      be.cfg.keepAlive,
      this.core,
    );
    const req = this.req as RequestHead;
    if (this.persist) be.persistence?.chosen(this.persist, lease.server.id, this.core.clock.now());
    const rules = frontendHeaderRules(this.fe.cfg);
    this.head = serialiseRequest(
      req,
      { connection: "keep-alive", clientAddress: this.source, proto: "https" },
      this.persist ? (be.persistence as Persistence).requestRules(rules, this.persist) : rules,
    );
    // a PROXY header names this client: such a connection is never reused nor handed to another stream
    this.open(pool, isIdempotent(req.method) && meta.sendProxy === undefined);
  }

  /** The stream's DATA flows to the server from the first connected upstream on (a failed connect replays nothing). */
  private read(): void {
    if (this.bodyless) return;
    if (this.reading) {
      this.stream.resume(); // paused while a retry looked for a server
      return;
    }
    this.reading = true;
    this.stream.on("data", (d: Buffer) => this.onData(d));
    this.stream.on("end", () => this.onEnd());
  }

  /** A connection from the server's keep-alive pool (warm when `reuse`), the request head written to it. */
  private open(pool: UpstreamPool, reuse: boolean): void {
    const be = this.backend as Backend;
    const c = pool.take(this, reuse, be.cfg.timeouts.connect);
    this.conn = c;
    this.up = c.conn;
    this.reused = c.connected;
    const sendProxy = ((this.lease as Lease<ServerMeta>).server.meta as ServerMeta).sendProxy;
    if (sendProxy) {
      c.spoiled = true;
      c.conn.write(proxyHeaderFor(sendProxy, this.peer));
    }
    c.conn.write(this.head as Buffer);
    if (c.connected) {
      this.tSent = this.core.clock.now();
      c.idle(be.cfg.timeouts.server);
      this.read();
    }
  }

  onUpstreamConnect(c: UpstreamConn): void {
    if (c !== this.conn) return;
    this.tSent = this.core.clock.now();
    c.idle((this.backend as Backend).cfg.timeouts.server);
    this.read();
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
    if (this.res) this.fail("SD", NGHTTP2_CANCEL);
    else if (!this.conn?.connected) this.attemptFailed("conn-failure", "SC", 503, true);
    else this.attemptFailed("empty-response", "SH", 502);
  }

  onUpstreamTimeout(c: UpstreamConn): void {
    if (c !== this.conn) return;
    if (this.res) this.fail("sD", NGHTTP2_CANCEL);
    else if (!c.connected) this.attemptFailed("conn-failure", "sC", 503, false);
    else this.attemptFailed("response-timeout", "sH", 504);
  }

  /**
   * This attempt failed before any response byte: retry or redispatch by the backend's policy (after the
   * turn-around when a connect `error`, not a timeout, will likely meet the same server), else answer `status`.
   */
  private attemptFailed(kind: FailureKind, termination: string, status: number, error = false): void {
    const be = this.backend as Backend;
    const lease = this.lease as Lease<ServerMeta>;
    const reused = this.reused;
    this.conn?.drop();
    this.conn = undefined;
    this.up = undefined;
    this.lease = undefined;
    be.finish(lease, outcome(false, undefined, kind === "response-timeout" ? "timeout" : kind));
    const now = this.core.clock.now();
    const d = this.done
      ? { retry: false as const }
      : this.d.retry(be, lease.server.id, {
          retriesDone: this.d.retries,
          failure: kind,
          requestSent: this.sentBody > 0 || kind !== "conn-failure",
          idempotent: isIdempotent((this.req as RequestHead).method),
          replayable: this.bodyless,
          turnAround: be.turnAround(now, error, reused, lease.server.id, persisted(this.persist)),
        });
    if (!d.retry) {
      this.fail(termination, NGHTTP2_CANCEL, status);
      return;
    }
    this.retried = false;
    this.resBuf = Buffer.alloc(0); // part of a head from this server is not the start of the next one's answer
    if (this.reading) this.stream.pause(); // no DATA until the next server is connected
    if (d.at !== undefined && d.at > now) {
      this.d.wait(this.core.timers, d.at - now, () => this.afterTurnAround());
      return;
    }
    this.dispatch();
  }

  private afterTurnAround(): void {
    if (this.done) return;
    try {
      this.dispatch();
    } catch (e) {
      this.onUpstreamFailure(e);
    }
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
    const up = this.up as Conn;
    let ok: boolean;
    if (this.chunked) {
      // every part is written (a false answer only asks to stop reading)
      const size = up.write(Buffer.from(`${d.length.toString(16)}\r\n`, "latin1"));
      const data = up.write(d);
      ok = up.write(CRLF) && size && data;
    } else ok = up.write(d);
    if (!ok) this.stream.pause();
  }

  /** Trailers end the stream (they come before its 'end'): forwarded after the last chunk when the body is chunked. */
  private onTrailers(raw: string[]): void {
    const t = http1Trailers(raw);
    if (!t.ok) {
      this.reset("PR", NGHTTP2_PROTOCOL_ERROR);
      return;
    }
    this.reqTrailers = t.lines; // a body with a content-length has no trailer section in HTTP/1.1: dropped
  }

  private onEnd(): void {
    if (this.done) return;
    if (this.contentLength !== undefined && this.sentBody !== this.contentLength) {
      this.reset("PR", NGHTTP2_PROTOCOL_ERROR); // less DATA than content-length
      return;
    }
    this.reqDone = true;
    if (this.chunked) this.up?.write(Buffer.from(`0\r\n${this.reqTrailers}\r\n`, "latin1"));
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
        if (r.head.informational) {
          // 100 Continue (the client's `expect: 100-continue` was forwarded), 103 Early Hints, 102: an
          // informational HEADERS frame before the final response
          if (!this.stream.destroyed) this.stream.additionalHeaders(h2ResponseHeaders(r.head));
          continue;
        }
        this.respond(r.head);
        break;
      }
      if (this.done) return; // an http-response deny/return answered instead of the server
      const rest = this.resBuf;
      this.resBuf = Buffer.alloc(0);
      if (rest.length > 0) this.body(rest);
      return;
    }
    this.body(d);
  }

  private respond(head: ResponseHead): void {
    this.tResponse = this.core.clock.now();
    // http-response rules: compiled edits, or (conditional rules, deny, return) evaluated on this response,
    // through the same pure plan as an HTTP/1.1 response
    const plan = responsePlan(this.fe.cfg);
    let base = plan.fixed;
    if (base === undefined) {
      const a = responseAction(
        plan,
        {
          status: head.status,
          header: (name) => head.get(name),
          request: this.facts as RequestFacts,
          backend: (this.backend as Backend).id,
          server: this.lease?.server.id,
        },
        false,
      );
      if ("status" in a) {
        // the server's response is dropped with its connection; ours goes out (PH for deny, as HAProxy logs it)
        this.conn?.drop();
        this.conn = undefined;
        this.answerBytes(a.bytes, a.termination === "proxy" ? "PH" : "--");
        return;
      }
      base = a.headers;
    }
    this.res = head;
    this.status = head.status;
    const persistence = this.persist && (this.backend as Backend).persistence;
    const rules = persistence
      ? persistence.responseRules(
          base,
          this.persist as PersistRequest,
          (this.lease as Lease<ServerMeta>).server.cookie,
          head.getAll("set-cookie"),
          Date.now(),
        )
      : base;
    const out = h2ResponseHeaders(head, rules);
    const f = head.framing;
    const empty = f.kind === "none" || (f.kind === "length" && f.n === 0);
    if (f.kind === "chunked")
      this.stream.once("wantTrailers", () => {
        const t = this.dechunk?.done ? h2Trailers(this.dechunk.trailers) : {};
        if (!this.stream.destroyed) this.stream.sendTrailers(t); // none: an empty DATA frame ends the stream
      });
    this.stream.respond(out, { endStream: empty, waitForTrailers: f.kind === "chunked" });
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
    const up = this.up as Conn;
    let ok = true;
    if (this.dechunk) {
      const check = this.check as ChunkedBody;
      const n = check.feed(d, 0);
      if (check.error !== undefined) {
        this.fail("SD", NGHTTP2_CANCEL);
        return;
      }
      for (const part of this.dechunk.feed(d.subarray(0, n))) {
        this.bytesOut += part.length;
        ok = this.stream.write(part) && ok;
      }
      if (check.done) {
        this.finish();
        return;
      }
    } else if (this.resLeft >= 0) {
      const part = d.subarray(0, this.resLeft);
      this.resLeft -= part.length;
      this.bytesOut += part.length;
      ok = this.stream.write(part);
      if (this.resLeft === 0) {
        this.finish();
        return;
      }
    } else {
      this.bytesOut += d.length;
      ok = this.stream.write(d);
    }
    if (!ok) {
      up.pause();
      this.stream.once("drain", () => up.resume());
    }
  }

  private onStreamClose(): void {
    if (this.done) return;
    // nghttp2 itself resets a stream whose DATA overruns its content-length (PROTOCOL_ERROR): a refused request;
    // else the client went away: while queued (CQ), in the turn-around or connecting (CC), waiting for the
    // response (CH) or during its data (CD), as HAProxy logs it
    const phase = this.d.waiter ? "Q" : !this.conn?.connected ? "C" : !this.res ? "H" : "D";
    this.termination = this.stream.rstCode === NGHTTP2_PROTOCOL_ERROR ? "PR" : `C${phase}`;
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

  /** Answer with an HTTP/1.1 response the proxy built itself (stats page, http-request deny/redirect/return). */
  private answerBytes(bytes: Buffer, termination: string): void {
    const r = parseResponseHead(bytes, DEFAULT_HEAD_LIMITS, this.req as RequestHead);
    if (r.kind !== "head") {
      this.answer(500, "PR"); // cannot happen: the proxy's own bytes
      return;
    }
    this.termination = termination;
    this.status = r.head.status;
    if (!this.stream.destroyed && !this.stream.headersSent) {
      const body = bytes.subarray(r.length);
      this.stream.respond(h2ResponseHeaders(r.head), { endStream: body.length === 0 });
      if (body.length > 0) this.stream.end(body);
    }
    this.end(true);
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
    this.d.cancel(this.backend, this.core.timers);
    this.conn?.drop();
    this.conn = undefined;
    this.up = undefined;
    const lease = this.lease;
    this.lease = undefined;
    const serverFault = this.termination[0] === "S" || this.termination[0] === "s";
    if (lease && this.backend)
      this.backend.finish(
        lease,
        outcome(
          ok || !serverFault,
          this.status || undefined,
          undefined,
          this.core.clock.now() - this.startedAt,
        ),
      );
    if (!this.core.wantsLog("request")) return;
    const now = this.core.clock.now();
    const capture = this.fe.cfg.capture;
    this.core.log("request", {
      frontend: this.fe.cfg.id,
      backend: this.backend?.id,
      server: this.serverId,
      client: this.source,
      clientPort: this.peer.port,
      status: this.status,
      termination: this.termination,
      retries: this.d.retries,
      redispatches: this.d.redispatches,
      queuePos: this.d.queuePos,
      ...(this.d.serverQueued ? { serverQueued: true } : {}),
      duration: now - this.startedAt,
      at: Date.now() - (now - this.startedAt),
      timers: {
        request: 0, // the HEADERS frame arrived whole
        queue: this.d.queueTime(now, this.tConnect),
        connect: this.tSent >= 0 ? this.tSent - this.tConnect : -1,
        response: this.tResponse >= 0 && this.tSent >= 0 ? this.tResponse - this.tSent : -1,
        total: now - this.startedAt,
      },
      bytesIn: this.sentBody,
      bytesOut: this.bytesOut,
      ...(this.req ? { method: this.req.method, path: this.req.path } : {}),
      ...(capture
        ? {
            captured: {
              request: captureFrom(capture.request, this.req, capture.len),
              response: captureFrom(capture.response, this.res, capture.len),
            },
          }
        : {}),
    });
  }
}
