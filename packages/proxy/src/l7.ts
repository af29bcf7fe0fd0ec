/**
 * The L7 shell: one HttpConnection per client socket, a small state machine per request —
 * reading head → routing → pick/queue → connect → request head+body → response head → response body →
 * keep-alive (next pipelined request, in order) or close — plus Upgrade/CONNECT tunnels. Parsing, framing
 * and header rewriting are the wire layer's (src/http); routing, retry and queue decisions are pure modules;
 * this file only moves bytes and reacts to socket events. Per-request state lives in fields of the connection
 * (no per-request closures); bodies stream through with backpressure both ways and are never buffered whole.
 * Over 350 lines: it is the one state machine, and splitting its transitions across files would hide them.
 */
import { Buffer } from "node:buffer";
import type { Lease, PickContext } from "@lbkit/balancer";
import type { Backend, QueueClient, ServerMeta } from "./backend.js";
import type { ResponseFacts } from "./config.js";
import type { Conn, ConnHandler } from "./conn.js";
import type { DeadlineOwner, Deadlines } from "./deadlines.js";
import { Dispatch } from "./dispatch.js";
import { ProxyError } from "./errors.js";
import { ChunkedBody, ContentLengthBody } from "./http/body.js";
import {
  type HeaderRules,
  responseAsReceived,
  responseHeadBytes,
  serialiseRequest,
  serialiseResponse,
} from "./http/forward.js";
import { Request as ParsedRequest, readRequestHead } from "./http/request.js";
import { Response as ParsedResponse, readResponseHead } from "./http/response.js";
import { type CannedStatus, cannedHeadLength, cannedResponse } from "./http/responses.js";
import { DEFAULT_HEAD_LIMITS, newOwningScan, releaseScan, resetScan } from "./http/scan.js";
import type { BodyDecoder, ForwardContext, HeadLimits, RequestHead, ResponseHead } from "./http/types.js";
import {
  frontendHeaderRules,
  type LocalAnswer,
  localAnswer,
  responseAction,
  responsePlan,
  routingHost,
} from "./l7-local.js";
import { captureFrom, type NormalCapture } from "./log/capture.js";
import { outcome } from "./outcome.js";
import { type Persistence, type PersistRequest, persisted } from "./persist/persistence.js";
import { type ClientPeer, proxyHeaderFor, socketPeer } from "./proxy-protocol/peer.js";
import { type FailureKind, isIdempotent } from "./retry.js";
import type { RequestFacts } from "./route.js";
import type { FrontendRuntime, ProxyCore, Tracked } from "./shell.js";
import {
  newTermination,
  note,
  resetTermination,
  type Termination,
  type TxnEvent,
  terminationState,
} from "./termination.js";
import { serverPool, type UpstreamConn, type UpstreamOwner } from "./upstream.js";

const IDLE = 0; // waiting for the first byte of a request
const HEAD = 1; // reading a request head
const DISPATCH = 2; // routed, waiting for a server (queue, connect); the client is paused
const EXCHANGE = 3; // request and/or response in flight
const TUNNEL = 4; // after 101 / 2xx to CONNECT: raw bytes both ways
const CLOSED = 5;

const EMPTY = Buffer.alloc(0);
/** Up to this many first body bytes are copied behind the response head to leave in a single write. */
const SMALL_BODY = 16_384;
/** What a response tells the client about the connection (shared: `serialiseResponse` only reads it). */
const TO_CLIENT_KEEP_ALIVE: ForwardContext = Object.freeze({ connection: "keep-alive" });
const TO_CLIENT_CLOSE: ForwardContext = Object.freeze({ connection: "close" });

/**
 * Head limits by `maxHeadSize`, shared by every connection of the frontends that use it (there are one or two
 * values per process).
 */
const limitsBySize = new Map<number, Readonly<HeadLimits>>();
function headLimits(maxHeadSize: number): Readonly<HeadLimits> {
  let l = limitsBySize.get(maxHeadSize);
  if (l === undefined) {
    l = Object.freeze({ ...DEFAULT_HEAD_LIMITS, maxHeadSize });
    limitsBySize.set(maxHeadSize, l);
  }
  return l;
}

/** What a request head sent upstream tells the server; its `connection` is set per request. */
class UpstreamContext implements ForwardContext {
  connection: "keep-alive" | "close" | "upgrade" = "keep-alive";
  constructor(
    readonly clientAddress: string,
    readonly proto: "http" | "https",
  ) {}
}

/** What the balancing algorithms see of a connection: its source, and the current request's target and headers. */
class ConnPickContext implements PickContext {
  req: RequestHead | undefined = undefined;
  /** `{ get(name) }`, the HeaderSource shape: this object itself. */
  readonly headers: { get(name: string): string | undefined } = this;
  constructor(readonly source: string) {}
  /** The target, made into a string only for an algorithm that hashes it. */
  get uri(): string | undefined {
    return this.req?.target;
  }
  get(name: string): string | undefined {
    return this.req?.get(name);
  }
}

/** What routing and http-request rules see, read from the current request only when a rule asks. */
class LazyFacts implements RequestFacts {
  private r: RequestHead | undefined;
  private h: string | undefined | null = null;
  constructor(readonly source: string) {}
  get req(): RequestHead | undefined {
    return this.r;
  }
  set req(r: RequestHead | undefined) {
    this.r = r;
    this.h = null;
  }
  get method(): string | undefined {
    return this.r?.method;
  }
  get host(): string | undefined {
    if (this.h === null) this.h = this.r ? routingHost(this.r) : undefined;
    return this.h;
  }
  get path(): string | undefined {
    return this.r?.path;
  }
  get query(): string {
    return this.r?.query ?? "";
  }
  header(name: string): string | undefined {
    return this.r?.get(name);
  }
}
const RESPONSE_LIMITS: HeadLimits = DEFAULT_HEAD_LIMITS;

export class HttpConnection implements QueueClient, Tracked, UpstreamOwner, DeadlineOwner, ConnHandler {
  /** Its place in the proxy's connection list (Tracked). */
  trackPos = -1;
  readonly pickContext: ConnPickContext;
  /** Deadlines' bookkeeping: the head deadline while IDLE or HEAD. */
  heapPos = -1;
  deadline = 0;
  private readonly deadlines: Deadlines;
  private readonly facts: LazyFacts;
  private readonly source: string;
  /** What a request head sent upstream tells the server (its `connection` set per request). */
  private readonly upCtx: UpstreamContext;
  private readonly limits: Readonly<HeadLimits>;
  // one transaction's heads at a time: the request head is done with before the next is parsed (pipelined bytes
  // wait in `buf`), the response head before the next response, so each scan's heads share one field table,
  // handed back when the connection goes idle (endTransaction)
  private readonly scan = newOwningScan();
  private readonly resScan = newOwningScan();
  private state = IDLE;
  /** Unconsumed client bytes: a head being read, request body bytes not yet sent, or pipelined requests. */
  private buf: Buffer = EMPTY;
  private headDeadline = 0;
  private draining = false;
  /** Transactions ended on this connection. */
  private served = 0;
  private clientEnded = false;

  // ---- the current transaction ----
  private req: RequestHead | undefined;
  private reqBody: BodyDecoder | undefined;
  private reqDone = false;
  private reqSent = false;
  private clientKeepAlive = true;
  private startedAt = 0;
  // stage times (clock ms, -1 = not reached) for the log's HAProxy timers
  private tHead = -1;
  private tConnect = -1;
  private tSent = -1;
  private tResponse = -1;
  /** The current transaction's termination state, reset for each request (nothing keeps it past the log line). */
  private readonly t: Termination = newTermination();
  private backend: Backend | undefined;
  private lease: Lease<ServerMeta> | undefined;
  private up: UpstreamConn | undefined;
  /** Placing, queueing and retrying, with their log bookkeeping. */
  private readonly d = new Dispatch();
  private serverId: string | undefined;
  private resBuf: Buffer = EMPTY;
  /** The request head, when it waits to leave with the first body bytes. */
  private upHead: Buffer | undefined;
  private res: ResponseHead | undefined;
  private resBody: BodyDecoder | undefined;
  private pendingHead: Buffer | undefined;
  private untilClose = false;
  private status: number | undefined;
  private bytesIn = 0;
  private bytesOut = 0;
  private serverEnded = false;
  /** What cookie persistence / the stick table made of this request, when the backend has them. */
  private persist: PersistRequest | undefined;

  constructor(
    private readonly core: ProxyCore,
    private readonly fe: FrontendRuntime,
    private readonly client: Conn,
    /** The client's endpoints from an accepted PROXY header (acceptProxy), else read from the socket. */
    private readonly peer?: ClientPeer,
  ) {
    this.source = peer?.address ?? client.remoteAddress ?? "";
    // Objects that live as long as the connection are class instances (or shared), never object literals: V8
    // pretenures a literal's allocation site once many of its objects outlive a scavenge (thousands of idle
    // connections), and a pretenured object pointing at young ones keeps them, and the connection behind them,
    // alive through every scavenge until the next full GC (7-8 ms scavenges under churn, measured).
    this.upCtx = new UpstreamContext(this.source, fe.cfg.tls ? "https" : "http");
    this.limits = headLimits(fe.cfg.maxHeadSize);
    this.pickContext = new ConnPickContext(this.source);
    this.facts = new LazyFacts(this.source);
    core.track(this);
    // every report is guarded by the connection: an exception cuts this connection (termination I), never the process
    client.handler = this;
    this.deadlines = core.deadlines;
    this.idle(fe.cfg.timeouts.client);
    this.headDeadline = core.clock.now() + fe.cfg.timeouts.httpRequest;
    this.deadlines.set(this, this.headDeadline);
  }

  /**
   * Arms the client connection's inactivity timeout (`timeout client`, and later client-fin or tunnel); an
   * unchanged value costs nothing. Waiting for a head (http-request, http-keep-alive) is a deadline in
   * `Deadlines` instead, so a keep-alive request switches no timer.
   */
  private idle(ms: number): void {
    this.client.idle(ms);
  }

  // ---- reports of the client connection (ConnHandler) ----
  connData(_c: Conn, d: Buffer): void {
    this.onClientData(d);
  }
  connEnd(): void {
    this.onClientEnd();
  }
  connClose(): void {
    this.onClientClose();
  }
  connDrain(): void {
    this.onClientDrain();
  }
  connTimeout(): void {
    this.onClientTimeout();
  }
  connConnect(): void {}
  connFailure(_c: Conn, e: unknown): void {
    this.internalError(e);
  }

  // ================= client side =================

  private onClientData(d: Buffer): void {
    this.bytesIn += d.length;
    switch (this.state) {
      case IDLE:
        this.state = HEAD;
        this.startedAt = this.core.clock.now();
        this.headDeadline = this.startedAt + this.fe.cfg.timeouts.httpRequest;
        this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
        this.readHead();
        return;
      case HEAD:
        this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
        this.readHead();
        return;
      case EXCHANGE:
        if (!this.reqDone && this.reqSent && this.buf.length === 0) {
          this.sendBody(d);
          return;
        }
        this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
        // pipelined bytes wait for the response; stop reading when they pile up
        if (this.buf.length > this.limits.maxHeadSize) this.client.pause();
        return;
      case TUNNEL:
        if (this.up && !this.up.conn.write(d)) this.client.pause();
        return;
      case CLOSED: // answered and closing (e.g. an early response during an upload): the rest is dropped
        return;
      default: // DISPATCH: body bytes wait for the connection, pipelined ones for the response (bounded)
        this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
        if (this.buf.length > this.limits.maxHeadSize) this.client.pause();
    }
  }

  private readHead(): void {
    const r = readRequestHead(this.buf, this.limits, this.scan);
    if (r instanceof ParsedRequest) {
      // an empty view would keep the whole read chunk alive while the connection idles
      this.buf = r.length === this.buf.length ? EMPTY : this.buf.subarray(r.length);
      this.tConnect = this.tSent = this.tResponse = -1;
      this.tHead = this.core.clock.now();
      this.begin(r);
      return;
    }
    if (r.kind === "incomplete") {
      // http-request is a deadline for the whole head, whatever the pace of its bytes (slowloris). It is set
      // only for a head that takes more than one read; a head read whole leaves the keep-alive deadline in
      // place, which is moved when the transaction ends and ignored if it comes up before (deadlinePassed)
      if (this.deadline !== this.headDeadline || this.heapPos < 0)
        this.deadlines.set(this, this.headDeadline);
      return;
    }
    if (r.kind === "error") {
      resetTermination(this.t);
      note(this.t, "proxy");
      this.replyCanned(r.status as CannedStatus, true);
    }
  }

  private begin(req: RequestHead): void {
    this.req = req;
    this.pickContext.req = req;
    resetTermination(this.t);
    this.d.reset();
    this.serverId = undefined;
    this.backend = undefined;
    this.status = undefined;
    this.reqSent = false;
    this.serverEnded = false;
    this.res = undefined;
    this.resBody = undefined;
    this.resBuf = EMPTY;
    resetScan(this.resScan);
    this.untilClose = false;
    this.clientKeepAlive = req.keepAlive && !this.draining && !this.clientEnded;
    const f = req.framing;
    this.reqBody =
      f.kind === "length" ? new ContentLengthBody(f.n) : f.kind === "chunked" ? new ChunkedBody() : undefined;
    this.reqDone = this.reqBody === undefined;
    this.idle(this.fe.cfg.timeouts.client);
    if (req.method === "CONNECT" && !this.fe.cfg.connect) {
      note(this.t, "proxy");
      this.replyCanned(405, true);
      return;
    }
    if (this.fe.cfg.stats !== undefined && (req.method === "GET" || req.method === "HEAD")) {
      const close = !this.clientKeepAlive || !this.reqDone;
      const page = this.core.statsPage(this.fe, req, close);
      if (page) {
        this.replyBytes(page.status, page.bytes, close);
        return;
      }
    }
    const facts = this.facts;
    facts.req = req;
    const rules = this.fe.cfg.httpRequest;
    if (rules.length > 0) {
      const local = localAnswer(rules, facts, !this.clientKeepAlive || !this.reqDone);
      if (local) {
        if (local.termination === "proxy") note(this.t, "proxy");
        this.replyBytes(local.status, local.bytes, !this.clientKeepAlive || !this.reqDone);
        return;
      }
    }
    const id = this.fe.router.route(facts);
    this.backend = id === undefined ? undefined : this.core.backend(id);
    if (!this.backend) {
      note(this.t, "resource");
      this.replyCanned(503, !this.reqDone);
      return;
    }
    const persistence = this.backend.persistence;
    this.persist = persistence?.request(
      this.pickContext,
      facts,
      req.getAll("cookie"),
      this.core.clock.now(),
      Date.now(),
    );
    this.state = DISPATCH;
    // a body waits in the kernel until a server is connected; a complete request keeps the client read, so that
    // its abort (CQ, CC) is noticed at once
    if (!this.reqDone) this.client.pause();
    this.dispatch();
  }

  get avoid(): string | undefined {
    return this.d.avoid;
  }

  private dispatch(): void {
    const got = this.d.place(this.backend as Backend, this, this.t, this.core.clock.now());
    if (got === "none") {
      note(this.t, "connecting");
      note(this.t, "server-abort"); // HAProxy logs <NOSRV> with SC
      this.replyCanned(503, !this.reqDone);
    } else if (got === "full") this.replyCanned(503, !this.reqDone);
    else if (got !== "queued") this.connect(got);
  }

  granted(lease: Lease<ServerMeta>): void {
    this.d.dequeued(this.core.clock.now());
    if (this.state !== DISPATCH) {
      (this.backend as Backend).finish(lease, outcome(true, undefined, "client-abort"));
      return;
    }
    this.connect(lease);
  }

  expired(): void {
    this.d.dequeued(this.core.clock.now());
    note(this.t, "server-timeout");
    this.replyCanned(503, !this.reqDone);
  }

  private connect(lease: Lease<ServerMeta>): void {
    this.lease = lease;
    this.serverId = lease.server.id;
    note(this.t, "connecting");
    this.tConnect = this.core.clock.now();
    this.tSent = -1;
    const be = this.backend as Backend;
    if (this.persist) be.persistence?.chosen(this.persist, lease.server.id, this.tConnect);
    const pool = serverPool(
      be.attachments,
      lease.server.id,
      lease.server.meta as ServerMeta,
      be.cfg.keepAlive,
      this.core,
    );
    const req = this.req as RequestHead;
    const sendProxy = (lease.server.meta as ServerMeta).sendProxy;
    const reuse = isIdempotent(req.method) && req.upgrade === undefined && sendProxy === undefined;
    const up = pool.take(this, reuse, be.cfg.timeouts.connect);
    this.up = up;
    if (sendProxy) {
      // the header names this client: the connection is never handed to another one
      up.spoiled = true;
      up.conn.write(proxyHeaderFor(sendProxy, this.peer ?? socketPeer(this.client)));
    }
    if (up.connected) this.sendHead();
  }

  onUpstreamConnect(c: UpstreamConn): void {
    if (c !== this.up) return;
    this.sendHead();
  }

  private sendHead(): void {
    this.tSent = this.core.clock.now();
    const up = this.up as UpstreamConn;
    const req = this.req as RequestHead;
    const be = this.backend as Backend;
    up.idle(be.cfg.timeouts.server);
    this.state = EXCHANGE;
    const ctx = this.upCtx;
    ctx.connection = req.upgrade !== undefined ? "upgrade" : "keep-alive";
    const head = serialiseRequest(
      req,
      ctx,
      this.persist
        ? (be.persistence as Persistence).requestRules(frontendHeaderRules(this.fe.cfg), this.persist)
        : frontendHeaderRules(this.fe.cfg),
    );
    this.reqSent = true;
    if (!this.reqDone && this.buf.length > 0) {
      // the head and the body bytes already received leave together
      this.upHead = head;
      const pending = this.buf;
      this.buf = EMPTY;
      this.sendBody(pending);
      if (this.upHead !== undefined) {
        this.upHead = undefined;
        this.up?.conn.write(head);
      }
    } else up.conn.write(head);
    if (this.state === EXCHANGE && this.res === undefined) note(this.t, "request-sent");
    if (this.state === EXCHANGE) this.client.resume();
  }

  /** Request body bytes from the client: forward what belongs to the body, keep the rest (pipelined). */
  private sendBody(d: Buffer): void {
    const body = this.reqBody as BodyDecoder;
    const n = body.feed(d, 0);
    if (body.error !== undefined) {
      note(this.t, "proxy");
      this.abortUpstream();
      this.replyCanned(400, true);
      return;
    }
    const up = this.up as UpstreamConn;
    if (n > 0 && !this.writeUp(up, n === d.length ? d : d.subarray(0, n))) this.client.pause();
    if (body.done) {
      this.reqDone = true;
      if (n < d.length) this.buf = d.subarray(n);
    }
  }

  /** Writes request body bytes, behind the request head when it still waits (`upHead`). */
  private writeUp(up: UpstreamConn, d: Buffer): boolean {
    const head = this.upHead;
    if (head === undefined) return up.conn.write(d);
    this.upHead = undefined;
    return up.conn.write2(head, d);
  }

  private onClientDrain(): void {
    if (this.up && (this.state === EXCHANGE || this.state === TUNNEL)) this.up.conn.resume();
  }

  onUpstreamDrain(c: UpstreamConn): void {
    if (c === this.up && (this.state === EXCHANGE || this.state === TUNNEL)) this.client.resume();
  }

  // ================= server side =================

  onUpstreamData(c: UpstreamConn, d: Buffer): void {
    if (c !== this.up) return;
    try {
      this.upstreamData(c, d);
    } catch (e) {
      this.internalError(e);
    }
  }

  private guard(fn: (this: HttpConnection) => void): void {
    try {
      fn.call(this);
    } catch (e) {
      this.internalError(e);
    }
  }

  /** Called by the upstream connection when one of the other handlers threw. */
  onUpstreamFailure(e: unknown): void {
    this.internalError(e);
  }

  /**
   * A bug must not take the whole proxy down: the connection is cut (termination I) and the error reported
   * (`error` event, or a process warning when nobody listens).
   */
  private internalError(e: unknown): void {
    if (this.state === CLOSED) {
      this.client.destroy();
      this.dropUpstream();
      this.core.error(
        new ProxyError(
          `proxy: internal error on a closed connection: ${(e as Error)?.message ?? e}`,
          "ERR_INTERNAL",
          { cause: e },
        ),
      );
      return;
    }
    this.core.error(
      new ProxyError(
        `proxy: internal error on a connection from ${this.source}: ${(e as Error)?.message ?? e}`,
        "ERR_INTERNAL",
        {
          cause: e,
        },
      ),
    );
    note(this.t, "internal");
    try {
      if (this.res === undefined && this.state !== TUNNEL && this.state !== CLOSED) {
        this.replyCanned(500, true);
        return;
      }
    } catch {}
    this.abort();
  }

  private upstreamData(c: UpstreamConn, d: Buffer): void {
    this.bytesOut += d.length;
    if (this.state === TUNNEL) {
      if (!this.client.write(d)) c.conn.pause();
      return;
    }
    if (this.res === undefined) {
      this.resBuf = this.resBuf.length === 0 ? d : Buffer.concat([this.resBuf, d]);
      this.readResponseHead();
      return;
    }
    this.forwardResponseBody(d);
  }

  private readResponseHead(): void {
    for (;;) {
      const head = readResponseHead(this.resBuf, RESPONSE_LIMITS, this.req as RequestHead, this.resScan);
      if (!(head instanceof ParsedResponse)) {
        if (head.kind === "error") {
          note(this.t, "bad-response");
          this.failAttempt(502, "bad-response");
        }
        return;
      }
      this.resBuf = EMPTY;
      if (head.informational) {
        // 1xx (100 Continue, 103 Early Hints): relayed to HTTP/1.1 clients, then the final response follows
        if ((this.req as RequestHead).version === 11) this.client.write(head.raw.subarray(0, head.length));
        if (head.length === head.raw.length) return;
        this.resBuf = head.raw.subarray(head.length);
        continue;
      }
      this.startResponse(head);
      return;
    }
  }

  /** The final response head; the bytes after it in the same read (`head.raw`) are the start of its body. */
  private startResponse(head: ResponseHead): void {
    this.tResponse = this.core.clock.now();
    // http-response rules: compiled edits, or (conditional rules, deny, return) evaluated on this response
    const plan = responsePlan(this.fe.cfg);
    let edits = plan.fixed;
    if (edits === undefined && head.framing.kind !== "tunnel") {
      const a = responseAction(plan, this.responseFacts(head), !this.clientKeepAlive || !this.reqDone);
      if ("status" in a) {
        this.replaceResponse(a);
        return;
      }
      edits = a.headers;
    }
    this.res = head;
    this.status = head.status;
    note(this.t, "response-head");
    const f = head.framing;
    const up = this.up as UpstreamConn;
    if (f.kind === "tunnel") {
      this.state = TUNNEL;
      note(this.t, "tunnel");
      this.client.write(serialiseResponse(head, { connection: head.status === 101 ? "upgrade" : "close" }));
      if (head.length < head.raw.length) this.client.write(head.raw.subarray(head.length));
      const to = (this.backend as Backend).cfg.timeouts;
      const tunnel = to.tunnel ?? Math.max(to.server, this.fe.cfg.timeouts.client);
      this.idle(tunnel);
      up.idle(tunnel);
      if (this.buf.length > 0) {
        up.conn.write(this.buf);
        this.buf = EMPTY;
      }
      this.reqDone = true;
      this.client.resume();
      if (this.clientEnded) up.conn.end();
      return;
    }
    if (f.kind === "until-close") this.untilClose = true;
    if (f.kind === "until-close" || !this.reqDone) this.clientKeepAlive = false;
    this.idle(this.fe.cfg.timeouts.client);
    const persistence = this.persist && (this.backend as Backend).persistence;
    const ctx = this.clientKeepAlive ? TO_CLIENT_KEEP_ALIVE : TO_CLIENT_CLOSE;
    // with persistence the rules depend on the response (its Set-Cookie): serialiseResponse decides afresh
    const asIs = !persistence && responseAsReceived(head, ctx, edits as HeaderRules);
    if (asIs && f.kind === "length" && head.raw.length === head.length + f.n) {
      // the whole response came in one read and goes on as received: that read is what the client gets
      this.client.write(head.raw);
      this.responseDone();
      return;
    }
    const rest = head.length === head.raw.length ? EMPTY : head.raw.subarray(head.length);
    this.resBody =
      f.kind === "length" ? new ContentLengthBody(f.n) : f.kind === "chunked" ? new ChunkedBody() : undefined;
    const out = persistence
      ? serialiseResponse(
          head,
          ctx,
          persistence.responseRules(
            edits as HeaderRules,
            this.persist as PersistRequest,
            (this.lease as Lease<ServerMeta>).server.cookie,
            head.getAll("set-cookie"),
            Date.now(),
          ),
        )
      : responseHeadBytes(head, ctx, edits as HeaderRules, asIs);
    if (rest.length === 0 || (this.resBody === undefined && !this.untilClose)) {
      this.client.write(out);
      if (this.resBody === undefined && !this.untilClose) {
        if (rest.length > 0) up.spoiled = true; // bytes after a body-less response: out of step
        this.responseDone();
      }
      return;
    }
    // the head goes out with the first body bytes in one write
    this.pendingHead = out;
    this.forwardResponseBody(rest);
    if (this.pendingHead !== undefined) this.writeClient(EMPTY);
  }

  private responseFacts(head: ResponseHead): ResponseFacts {
    return {
      status: head.status,
      header: (name) => head.get(name),
      request: this.facts,
      backend: (this.backend as Backend).id,
      server: this.serverId,
    };
  }

  /** An http-response deny/return: the server's response is dropped (its connection with it), ours goes out. */
  private replaceResponse(a: LocalAnswer): void {
    if (a.termination === "proxy") note(this.t, "proxy"); // PH, as HAProxy logs http-response deny
    this.replyBytes(a.status, a.bytes, !this.clientKeepAlive || !this.reqDone);
  }

  /** Writes to the client, prefixed by a response head still waiting to go: one buffer for small bodies, else corked. */
  private writeClient(d: Buffer): boolean {
    const head = this.pendingHead;
    if (head === undefined) return this.client.write(d);
    this.pendingHead = undefined;
    if (d.length === 0) return this.client.write(head);
    // a head forwarded as received (forward.ts) is still followed by its body bytes in the same read: the read
    // itself when they are all of it (a small response), else one view over both
    if (head.buffer === d.buffer && head.byteOffset + head.length === d.byteOffset) {
      const raw = (this.res as ResponseHead).raw;
      return this.client.write(
        raw.buffer === head.buffer &&
          raw.byteOffset === head.byteOffset &&
          raw.length === head.length + d.length
          ? raw
          : Buffer.from(d.buffer, head.byteOffset, head.length + d.length),
      );
    }
    if (d.length <= SMALL_BODY) return this.client.write(Buffer.concat([head, d], head.length + d.length));
    return this.client.write2(head, d);
  }

  private forwardResponseBody(d: Buffer): void {
    const up = this.up as UpstreamConn;
    if (this.untilClose) {
      if (!this.writeClient(d)) up.conn.pause();
      return;
    }
    const body = this.resBody as BodyDecoder;
    const n = body.feed(d, 0);
    if (n > 0 && !this.writeClient(n === d.length ? d : d.subarray(0, n))) up.conn.pause();
    if (body.error !== undefined) {
      note(this.t, "server-abort");
      this.truncateResponse();
      return;
    }
    if (body.done) {
      if (n < d.length) up.spoiled = true;
      this.responseDone();
    }
  }

  onUpstreamEnd(c: UpstreamConn): void {
    if (c !== this.up) return;
    this.serverEnded = true;
    if (this.state === TUNNEL) {
      this.client.end();
      this.idle(this.fe.cfg.timeouts.clientFin);
      if (this.clientEnded) this.finish();
      return;
    }
    if (this.untilClose) {
      this.responseDone();
      return;
    }
    if (this.res === undefined) {
      if (this.state === EXCHANGE) this.attemptFailed("empty-response", "server-abort", 502);
      return;
    }
    note(this.t, "server-abort");
    this.truncateResponse();
  }

  onUpstreamClose(c: UpstreamConn): void {
    if (c !== this.up || this.state === CLOSED) return;
    if (!c.connected || this.state === DISPATCH) {
      this.attemptFailed("conn-failure", "server-abort", 503);
      return;
    }
    if (this.state === TUNNEL) {
      if (!this.serverEnded) note(this.t, "server-abort");
      this.finish();
      return;
    }
    if (this.res === undefined) this.attemptFailed("empty-response", "server-abort", 502);
    else {
      note(this.t, "server-abort");
      this.truncateResponse();
    }
  }

  onUpstreamTimeout(c: UpstreamConn): void {
    if (c !== this.up) return;
    if (!c.connected) this.attemptFailed("conn-failure", "server-timeout", 503);
    else if (this.state === TUNNEL || this.res !== undefined) {
      note(this.t, "server-timeout");
      if (this.state === TUNNEL) this.finish();
      else this.truncateResponse();
    } else this.attemptFailed("response-timeout", "server-timeout", 504);
  }

  /** This attempt on this server failed before any response byte: retry, redispatch, or answer `status`. */
  private attemptFailed(kind: FailureKind, cause: TxnEvent, status: CannedStatus): void {
    const be = this.backend as Backend;
    const req = this.req as RequestHead;
    const lease = this.lease as Lease<ServerMeta>;
    const sent = this.reqSent;
    const reused = (this.up?.requests ?? 1) > 1;
    this.dropUpstream();
    this.lease = undefined;
    be.finish(lease, outcome(false, undefined, kind === "response-timeout" ? "timeout" : kind));
    const now = this.core.clock.now();
    const d =
      this.state === CLOSED
        ? { retry: false as const }
        : this.d.retry(be, lease.server.id, {
            retriesDone: this.d.retries,
            failure: kind,
            requestSent: sent,
            idempotent: isIdempotent(req.method),
            replayable: this.reqBody === undefined && req.upgrade === undefined,
            turnAround: be.turnAround(
              now,
              cause === "server-abort",
              reused,
              lease.server.id,
              persisted(this.persist),
            ),
          });
    if (d.retry) {
      // whatever part of a response head this server sent is not the start of the next server's answer
      this.resBuf = EMPTY;
      resetScan(this.resScan);
      this.reqSent = false;
      this.state = DISPATCH;
      if (!this.reqDone) this.client.pause();
      this.t.phase = "R";
      if (d.at !== undefined && d.at > now) {
        note(this.t, "connecting"); // an abort during the turn-around logs CC, as HAProxy's
        this.d.wait(this.core.timers, d.at - now, () => this.afterTurnAround());
        return;
      }
      this.dispatch();
      return;
    }
    note(this.t, cause);
    this.replyCanned(status, true);
  }

  private afterTurnAround(): void {
    if (this.state !== DISPATCH) return;
    try {
      this.dispatch();
    } catch (e) {
      this.internalError(e);
    }
  }

  private failAttempt(status: CannedStatus, _why: string): void {
    const be = this.backend as Backend;
    const lease = this.lease as Lease<ServerMeta>;
    this.dropUpstream();
    this.lease = undefined;
    be.finish(lease, outcome(false, status, "bad-response"));
    this.replyCanned(status, true);
  }

  // ================= endings =================

  /** The response went out completely: keep the upstream connection if it may be reused, then the next request. */
  private responseDone(): void {
    note(this.t, "server-done");
    const up = this.up as UpstreamConn;
    this.up = undefined;
    const reusable = this.reqDone && !this.untilClose && this.res?.keepAlive === true && !up.spoiled;
    if (reusable) up.pool.release(up);
    else up.drop();
    const lease = this.lease;
    this.lease = undefined;
    const status = this.status ?? 0;
    if (lease)
      (this.backend as Backend).finish(
        lease,
        outcome(status < 500, status, undefined, this.core.clock.now() - this.startedAt),
      );
    this.endTransaction(!this.clientKeepAlive);
  }

  /** The server failed mid-response: the client gets what was sent, then EOF (a truncated body, never a hang). */
  private truncateResponse(): void {
    this.clientKeepAlive = false;
    const lease = this.lease;
    this.lease = undefined;
    this.dropUpstream();
    if (lease) (this.backend as Backend).finish(lease, outcome(false, this.status || undefined, "reset"));
    this.endTransaction(true);
  }

  private replyCanned(status: CannedStatus, close: boolean): void {
    const bytes = cannedResponse(status, close);
    const req = this.req;
    this.replyBytes(
      status,
      req?.method === "HEAD" ? bytes.subarray(0, cannedHeadLength(status, close)) : bytes,
      close,
    );
  }

  private replyBytes(status: number, bytes: Buffer, close: boolean): void {
    if (this.state === CLOSED) return;
    this.d.cancel(this.backend, this.core.timers);
    this.abortUpstream();
    this.status = status;
    if (this.res === undefined) this.client.write(bytes);
    this.endTransaction(close || !this.reqDone);
  }

  /** Log, then either close the connection or wait for the next request (already buffered ones first). */
  private endTransaction(close: boolean): void {
    this.served++;
    if (this.pendingHead !== undefined) this.writeClient(EMPTY);
    this.log();
    // the next head's timeouts and aborts are the next transaction's (cR/CR), not this one's phase
    resetTermination(this.t);
    // nothing of this request stays referenced while the connection waits for the next one
    this.req = undefined;
    this.facts.req = undefined;
    this.pickContext.req = undefined;
    this.persist = undefined;
    this.reqBody = undefined;
    this.res = undefined;
    this.resBody = undefined;
    this.backend = undefined;
    if (close || this.draining || this.clientEnded) {
      this.state = CLOSED;
      if (this.draining) {
        this.client.destroySoon(); // stopping: flush and close without waiting for the client's FIN
        return;
      }
      this.client.end();
      this.idle(this.fe.cfg.timeouts.clientFin);
      return;
    }
    this.state = IDLE;
    releaseScan(this.scan);
    releaseScan(this.resScan);
    this.deadlines.set(this, this.core.clock.now() + this.fe.cfg.timeouts.httpKeepAlive);
    this.client.resume();
    if (this.buf.length > 0) {
      const d = this.buf;
      this.buf = EMPTY;
      this.bytesIn -= d.length;
      this.onClientData(d);
    }
  }

  private captured(c: NormalCapture): { request: string[]; response: string[] } {
    return {
      request: captureFrom(c.request, this.req, c.len),
      response: captureFrom(c.response, this.res, c.len),
    };
  }

  private log(): void {
    if (!this.core.wantsLog("request")) return;
    const now = this.core.clock.now();
    this.core.log("request", {
      frontend: this.fe.cfg.id,
      backend: this.backend?.id,
      server: this.serverId,
      client: this.source,
      clientPort: this.client.remotePort ?? 0,
      status: this.status,
      termination: terminationState(this.t),
      retries: this.d.retries,
      redispatches: this.d.redispatches,
      queuePos: this.d.queuePos,
      ...(this.d.serverQueued ? { serverQueued: true } : {}),
      duration: now - this.startedAt,
      at: Date.now() - (now - this.startedAt),
      timers: {
        request: this.tHead >= 0 ? this.tHead - this.startedAt : -1,
        queue: this.d.queueTime(now, this.tConnect),
        connect: this.tSent >= 0 ? this.tSent - this.tConnect : -1,
        response: this.tResponse >= 0 ? this.tResponse - this.tSent : -1,
        total: now - this.startedAt,
      },
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      ...(this.req ? { method: this.req.method, path: this.req.path } : {}),
      ...(this.fe.cfg.capture ? { captured: this.captured(this.fe.cfg.capture) } : {}),
    });
    this.bytesIn = 0;
    this.bytesOut = 0;
  }

  private dropUpstream(): void {
    const up = this.up;
    this.up = undefined;
    up?.drop();
  }

  /** Abandon the server side of the transaction (the request will not complete there). */
  private abortUpstream(): void {
    const lease = this.lease;
    this.lease = undefined;
    this.dropUpstream();
    if (lease) (this.backend as Backend).finish(lease, outcome(true, undefined, "client-abort"));
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    switch (this.state) {
      case IDLE:
        this.state = CLOSED;
        this.client.end();
        return;
      case HEAD:
        note(this.t, "client-abort");
        this.abort();
        return;
      case TUNNEL:
        this.up?.conn.end();
        this.up?.idle((this.backend as Backend).cfg.timeouts.serverFin);
        if (this.serverEnded) this.finish();
        return;
      default:
        // a request still arriving is cut short; a complete one gets its response, then the connection closes
        this.clientKeepAlive = false;
        // option abortonclose: a request still waiting for its server (queue, turn-around, connect) is dropped
        if (!this.reqDone || (this.state === DISPATCH && (this.backend as Backend).cfg.abortOnClose)) {
          note(this.t, "client-abort");
          this.abort();
        }
    }
  }

  private onClientClose(): void {
    this.core.untrack(this);
    this.deadlines.clear(this);
    if (this.state === CLOSED) return;
    if (this.state !== IDLE && !(this.state === TUNNEL && this.clientEnded && this.serverEnded))
      note(this.t, "client-abort");
    this.abort();
  }

  private onClientTimeout(): void {
    switch (this.state) {
      case CLOSED: // client-fin expired after we closed our side
        this.client.destroy();
        return;
      case DISPATCH: // queued or connecting: timeout queue / connect decide
      case IDLE: // waiting for a head: http-keep-alive / http-request decide (expired)
      case HEAD:
        return;
      case EXCHANGE:
        // waiting for the server's answer is not the client's fault
        if (this.reqDone && this.res === undefined) return;
        note(this.t, "client-timeout");
        this.abort();
        return;
      default:
        note(this.t, "client-timeout");
        this.abort();
    }
  }

  /**
   * The head deadline passed: http-keep-alive (IDLE) or http-request (HEAD). In any other state it is a stale
   * one (its head arrived in one read, see readHead): nothing to do.
   */
  deadlinePassed(): void {
    this.guard(this.onHeadTimeout);
  }

  private onHeadTimeout(): void {
    if (this.state === IDLE) {
      this.state = CLOSED; // http-keep-alive expired: close quietly
      this.client.destroy();
    } else if (this.state === HEAD) {
      note(this.t, "client-timeout");
      this.replyCanned(408, true);
    }
  }

  /** Tunnel ended both ways (or was cut): release everything. */
  private finish(): void {
    if (this.state === CLOSED) return;
    const lease = this.lease;
    this.lease = undefined;
    const serverFault = this.t.cause === "S" || this.t.cause === "s";
    this.dropUpstream();
    if (lease) (this.backend as Backend).finish(lease, outcome(!serverFault, this.status ?? 101, undefined));
    this.log();
    this.state = CLOSED;
    this.client.destroy();
  }

  /** Cut the connection now (abort, timeout, operator kill): both sockets destroyed, the lease released. */
  private abort(): void {
    if (this.state === CLOSED) return;
    const wasIdle = this.state === IDLE;
    this.d.cancel(this.backend, this.core.timers);
    const lease = this.lease;
    this.lease = undefined;
    const cause = this.t.cause;
    this.dropUpstream();
    if (lease)
      (this.backend as Backend).finish(
        lease,
        outcome(
          cause !== "S" && cause !== "s",
          undefined,
          cause === "s" ? "timeout" : cause === "S" ? "reset" : "client-abort",
        ),
      );
    if (!wasIdle) this.log();
    this.state = CLOSED;
    this.client.destroy();
  }

  drain(): void {
    this.draining = true;
    this.clientKeepAlive = false;
    // an idle kept-alive connection closes now; a fresh one (accepted, no request yet) still gets its first
    // request answered (with Connection: close), within http-request or the stop's grace
    if (this.state === IDLE && this.buf.length === 0 && this.served > 0) this.state = CLOSED;
    // closed on our side: flush what is written, then close without waiting for the client's FIN
    if (this.state === CLOSED) this.client.destroySoon();
  }

  holds(backend: string, server: string): boolean {
    return this.lease !== undefined && this.lease.server.id === server && this.backend?.id === backend;
  }

  kill(): void {
    this.core.untrack(this);
    if (this.state === CLOSED) {
      this.client.destroy();
      return;
    }
    note(this.t, "killed");
    this.abort();
  }
}
