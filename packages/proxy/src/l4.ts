/**
 * The L4 shell: one TCP session per accepted connection. Picks a server (source hashing works through the
 * pool's PickContext), queues at maxconn, connects with `timeout connect`, retries/redispatches connection
 * failures, then relays bytes both ways with backpressure (a write() that returns false pauses the other side
 * until `drain`), propagates half-close (FIN) each way with `timeout client-fin`/`server-fin` from then on,
 * and tears down the other side on any abort. Client bytes are not read before the server connected
 * (pauseOnConnect), so a retry never replays anything — except with `abortOnClose`, where they are read (to see
 * a FIN) and held, bounded, until the server is connected.
 *
 * The server's bytes (the bulk direction of most sessions) are read with Node's `onread` into a buffer the
 * session reuses (or, for small reads, one all sessions share), instead of a fresh 64 KiB allocation and a
 * stream `data` event per read: see `ReadBuffer`.
 */
import type net from "node:net";
import type { Lease, PickContext } from "@lbkit/balancer";
import type { Backend, QueueClient, ServerMeta } from "./backend.js";
import { Dispatch } from "./dispatch.js";
import { ProxyError } from "./errors.js";
import { type PersistRequest, persisted } from "./persist/persistence.js";
import { type ClientPeer, proxyHeaderFor, socketPeer } from "./proxy-protocol/peer.js";
import type { FrontendRuntime, ProxyCore, Tracked } from "./shell.js";
import { newTermination, note, type Termination, terminationState } from "./termination.js";
import { connectServer } from "./tls/connect.js";

/** Most bytes read from a client before its server is connected (option abortonclose), then it is paused. */
const EARLY_MAX = 65_536;

/** Reads up to this size go to one buffer all sessions share; a read that fills it moves the session to its own. */
const SMALL_READ = 512;
const BIG_READ = 65_536;
/** Shared by every session: a read into it is copied out before the callback returns, so nothing holds it. */
const SHARED = Buffer.allocUnsafeSlow(SMALL_READ);

/**
 * The buffer the server socket reads into (Node's `onread`, asked for after every read). Small reads land in
 * `SHARED` and are copied out (as Node's own read path copies each read to an exact-size buffer), so an idle
 * session holds no buffer at all. A read that fills it gives the session its own 64 KiB buffer, reused from one
 * read to the next: no allocation, no page faults on fresh memory, no stream machinery per read. Reuse is only
 * safe when the bytes already left: a client write the kernel did not take whole lends the buffer to that
 * write, and the next read gets a new one. A small read sends the session back to `SHARED`.
 */
class ReadBuffer {
  buf: Buffer = SHARED;
  next(lent: boolean, n: number): Buffer {
    if (this.buf === SHARED) {
      if (n === SMALL_READ) this.buf = Buffer.allocUnsafe(BIG_READ);
    } else if (n < SMALL_READ) this.buf = SHARED;
    else if (lent) this.buf = Buffer.allocUnsafe(BIG_READ);
    return this.buf;
  }
}

export class TcpSession implements QueueClient, Tracked {
  readonly pickContext: PickContext;
  private backend: Backend | undefined;
  private lease: Lease<ServerMeta> | undefined;
  private upstream: net.Socket | undefined;
  private readonly t: Termination = newTermination();
  private readonly startedAt: number;
  /** Placing, queueing and retrying, with their log bookkeeping. */
  private readonly d = new Dispatch();
  /** option abortonclose: what the client sent before its server was connected (read so that a FIN is seen). */
  private early: Buffer[] | undefined;
  private earlyBytes = 0;
  private tConnect = -1;
  private tConnected = -1;
  private connected = false;
  private clientEnded = false;
  private serverEnded = false;
  private finished = false;
  private bytesIn = 0;
  private bytesOut = 0;
  private readonly source: string;
  private serverId: string | undefined;
  private persist: PersistRequest | undefined;
  private readonly rb = new ReadBuffer();
  /** Whether the last server read's bytes are still held by the client's Writable, and how many there were. */
  private lent = false;
  private lastRead = 0;

  constructor(
    private readonly core: ProxyCore,
    private readonly fe: FrontendRuntime,
    private readonly client: net.Socket,
    /** The client's endpoints from an accepted PROXY header (acceptProxy), else read from the socket. */
    private readonly peer?: ClientPeer,
  ) {
    this.startedAt = core.clock.now();
    this.source = peer?.address ?? client.remoteAddress ?? "";
    this.pickContext = { source: this.source };
    core.track(this);
    client.setNoDelay(true);
    // every handler is guarded: an exception ends this session (termination I), never the process
    client.on("error", () => {}); // surfaced by 'close'
    client.on("close", () => this.guard(() => this.onClientClose()));
    client.on("end", () => this.guard(() => this.onClientEnd()));
    client.on("data", (d: Buffer) => {
      try {
        this.onClientData(d); // no closure per chunk on the hot path
      } catch (e) {
        this.failed(e);
      }
    });
    client.on("drain", () => this.upstream?.resume());
    client.pause(); // nothing is read before a server is connected
    client.setTimeout(fe.cfg.timeouts.client, () => this.guard(() => this.onTimeout("client-timeout")));
    let id: string | undefined;
    try {
      id = fe.router.route({ source: this.source });
    } catch (e) {
      this.failed(e);
      return;
    }
    this.backend = id === undefined ? undefined : core.backend(id);
    if (!this.backend) {
      note(this.t, "resource");
      this.end();
      return;
    }
    const now = core.clock.now();
    this.persist = this.backend.persistence?.request(
      this.pickContext,
      { source: this.source },
      [],
      now,
      Date.now(),
    );
    if (this.backend.cfg.abortOnClose) {
      this.early = [];
      this.client.resume();
    }
    this.dispatch();
  }

  get avoid(): string | undefined {
    return this.d.avoid;
  }

  private dispatch(): void {
    const got = this.d.place(this.backend as Backend, this, this.t, this.core.clock.now());
    if (got === "none") {
      note(this.t, "resource");
      this.end();
    } else if (got === "full") this.end();
    else if (got !== "queued") this.connect(got);
  }

  granted(lease: Lease<ServerMeta>): void {
    this.d.dequeued(this.core.clock.now());
    if (this.finished) {
      (this.backend as Backend).finish(lease, { ok: true, code: "client-abort" });
      return;
    }
    this.connect(lease);
  }

  expired(): void {
    this.d.dequeued(this.core.clock.now());
    note(this.t, "server-timeout"); // sQ, as HAProxy logs a queue timeout
    this.end();
  }

  private connect(lease: Lease<ServerMeta>): void {
    this.lease = lease;
    this.serverId = lease.server.id;
    note(this.t, "connecting");
    this.tConnect = this.core.clock.now();
    if (this.persist) this.backend?.persistence?.chosen(this.persist, lease.server.id, this.tConnect);
    const meta = lease.server.meta as ServerMeta;
    const be = this.backend as Backend;
    // TLS when the server has `ssl`; node:tls honours onread too
    const { socket: up, ready } = connectServer(meta, {
      onread: {
        buffer: () => this.rb.next(this.lent, this.lastRead),
        callback: (n: number, b: Uint8Array) => this.onServerRead(n, b as Buffer),
      },
    });
    this.upstream = up;
    if (meta.sendProxy) up.write(proxyHeaderFor(meta.sendProxy, this.peer ?? socketPeer(this.client)));
    up.setTimeout(be.cfg.timeouts.connect, () => this.guard(() => this.onUpstreamTimeout(up)));
    up.on(ready, () => this.guard(() => this.onConnect(up)));
    up.on("error", () => {}); // surfaced by 'close'
    up.on("close", () => this.guard(() => this.onUpstreamClose(up)));
    up.on("end", () => this.guard(() => this.onServerEnd(up)));
    up.on("drain", () => this.client.resume());
  }

  private onConnect(up: net.Socket): void {
    if (up !== this.upstream) return;
    this.connected = true;
    this.tConnected = this.core.clock.now();
    note(this.t, "tunnel");
    const to = (this.backend as Backend).cfg.timeouts;
    up.setTimeout(to.tunnel ?? to.server);
    if (to.tunnel !== undefined) this.client.setTimeout(to.tunnel);
    const early = this.early;
    this.early = undefined;
    if (early) for (const b of early) up.write(b);
    this.client.resume();
  }

  private onClientData(d: Buffer): void {
    this.bytesIn += d.length;
    const early = this.early;
    if (early !== undefined) {
      // held until the server is connected (a failed attempt never consumed them); bounded
      early.push(d);
      this.earlyBytes += d.length;
      if (this.earlyBytes >= EARLY_MAX) this.client.pause();
      return;
    }
    const up = this.upstream;
    if (up && !up.write(d)) this.client.pause();
  }

  /** One read from the server into the session's buffer; false stops reading until the client drains. */
  private onServerRead(n: number, b: Buffer): boolean {
    this.bytesOut += n;
    this.lastRead = n;
    try {
      const ok = this.client.write(
        b === SHARED ? Buffer.from(b.subarray(0, n)) : n === b.length ? b : b.subarray(0, n),
      );
      const waiting = this.client.writableLength > 0;
      this.lent = waiting && b !== SHARED;
      // write() answers false for any chunk over the high-water mark, even one the kernel took whole: stop
      // reading only when bytes are really waiting (a 'drain' follows a false answer; a true one promises none)
      return ok || !waiting;
    } catch (e) {
      this.lent = true;
      this.failed(e);
      return false;
    }
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    const up = this.upstream;
    if (!up || !this.connected) {
      // the client gave up before a server took it (it still could read, but nothing was sent): abort
      note(this.t, "client-abort");
      this.end();
      return;
    }
    up.end();
    up.setTimeout((this.backend as Backend).cfg.timeouts.serverFin);
  }

  private onServerEnd(up: net.Socket): void {
    if (up !== this.upstream) return;
    this.serverEnded = true;
    this.client.end();
    this.client.setTimeout(this.fe.cfg.timeouts.clientFin);
  }

  private onClientClose(): void {
    if (this.finished) return;
    if (!(this.clientEnded && this.serverEnded)) note(this.t, "client-abort");
    this.end();
  }

  private onUpstreamClose(up: net.Socket): void {
    if (up !== this.upstream || this.finished) return;
    if (!this.connected) {
      this.connectFailed("conn-failure");
      return;
    }
    if (this.clientEnded && this.serverEnded) {
      this.end();
      return;
    }
    note(this.t, "server-abort");
    this.end();
  }

  private onUpstreamTimeout(up: net.Socket): void {
    if (up !== this.upstream) return;
    if (!this.connected) {
      this.connectFailed("timeout");
      return;
    }
    this.onTimeout("server-timeout");
  }

  private connectFailed(code: "conn-failure" | "timeout"): void {
    const be = this.backend as Backend;
    const lease = this.lease as Lease<ServerMeta>;
    const up = this.upstream as net.Socket;
    this.upstream = undefined;
    this.lease = undefined;
    up.destroy();
    be.finish(lease, { ok: false, code });
    const now = this.core.clock.now();
    const d = this.clientEnded
      ? { retry: false as const }
      : this.d.retry(be, lease.server.id, {
          retriesDone: this.d.retries,
          failure: "conn-failure",
          requestSent: false,
          idempotent: true,
          replayable: true,
          turnAround: be.turnAround(
            now,
            code === "conn-failure",
            false,
            lease.server.id,
            persisted(this.persist),
          ),
        });
    if (!d.retry) {
      note(this.t, code === "timeout" ? "server-timeout" : "server-abort");
      this.end();
      return;
    }
    if (d.at !== undefined && d.at > now)
      this.d.wait(this.core.timers, d.at - now, () => this.guard(() => this.dispatch()));
    else this.dispatch();
  }

  private onTimeout(e: "client-timeout" | "server-timeout"): void {
    note(this.t, e);
    this.end();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.failed(e);
    }
  }

  private failed(e: unknown): void {
    this.core.error(
      new ProxyError(
        `proxy: internal error on a TCP session from ${this.source}: ${(e as Error)?.message ?? e}`,
        "ERR_INTERNAL",
        {
          cause: e,
        },
      ),
    );
    note(this.t, "internal");
    this.end();
  }

  drain(): void {}

  holds(backend: string, server: string): boolean {
    return this.lease !== undefined && this.lease.server.id === server && this.backend?.id === backend;
  }

  kill(): void {
    note(this.t, "killed");
    this.end();
  }

  /** Ends the session once: both sockets destroyed (or already closed), the lease released, the log emitted. */
  private end(): void {
    if (this.finished) return;
    this.finished = true;
    this.core.untrack(this);
    this.d.cancel(this.backend, this.core.timers);
    const cause = this.t.cause;
    const clean = cause === "-";
    // a clean end has both FINs through already; otherwise nothing more is owed to either side
    this.client.destroy();
    this.upstream?.destroy();
    if (this.lease) {
      const serverFault = cause === "S" || cause === "s";
      (this.backend as Backend).finish(this.lease, {
        ok: !serverFault,
        latencyMs: this.core.clock.now() - this.startedAt,
        ...(serverFault
          ? { code: cause === "s" ? "timeout" : "reset" }
          : clean
            ? {}
            : { code: "client-abort" }),
      });
      this.lease = undefined;
    }
    if (!this.core.wantsLog("session")) return;
    const now = this.core.clock.now();
    this.core.log("session", {
      frontend: this.fe.cfg.id,
      backend: this.backend?.id,
      server: this.serverId,
      client: this.source,
      clientPort: this.client.remotePort ?? 0,
      status: undefined,
      termination: terminationState(this.t),
      retries: this.d.retries,
      redispatches: this.d.redispatches,
      queuePos: this.d.queuePos,
      ...(this.d.serverQueued ? { serverQueued: true } : {}),
      duration: now - this.startedAt,
      at: Date.now() - (now - this.startedAt),
      timers: {
        request: -1,
        queue: this.d.queueTime(now, this.tConnect),
        connect: this.tConnected >= 0 ? this.tConnected - this.tConnect : -1,
        response: -1,
        total: now - this.startedAt,
      },
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    });
  }
}
