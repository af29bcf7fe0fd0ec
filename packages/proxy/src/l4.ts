/**
 * The L4 shell: one TCP session per accepted connection. Picks a server (source hashing works through the
 * pool's PickContext), queues at maxconn, connects with `timeout connect`, retries/redispatches connection
 * failures, then relays bytes both ways with backpressure (a write() that returns false pauses the other side
 * until `drain`), propagates half-close (FIN) each way with `timeout client-fin`/`server-fin` from then on,
 * and tears down the other side on any abort. Client bytes are not read before the server connected
 * (pauseOnConnect), so a retry never replays anything — except with `abortOnClose`, where they are read (to see
 * a FIN) and held, bounded, until the server is connected.
 *
 * Both connections are `Conn`s (conn.ts); on lean ones (handle-conn.ts) the server's bytes, the bulk direction
 * of most sessions, are read into a 64 KiB buffer the session reuses whenever the client took the last read
 * whole (`recycle`).
 */
import type { Lease, PickContext } from "@lbkit/balancer";
import type { Backend, QueueClient, ServerMeta } from "./backend.js";
import type { Conn, ConnHandler } from "./conn.js";
import { dial } from "./dial.js";
import { Dispatch } from "./dispatch.js";
import { ProxyError } from "./errors.js";
import { outcome } from "./outcome.js";
import { type PersistRequest, persisted } from "./persist/persistence.js";
import { type ClientPeer, proxyHeaderFor, socketPeer } from "./proxy-protocol/peer.js";
import { nativeRelay, type Relay, type RelayHandler, relayable, startRelay } from "./relay.js";
import type { FrontendRuntime, ProxyCore, Tracked } from "./shell.js";
import { newTermination, note, type Termination, terminationState } from "./termination.js";

/** Most bytes read from a client before its server is connected (option abortonclose), then it is paused. */
const EARLY_MAX = 65_536;
/**
 * The native relay takes a session over at its third run of bytes one way (request, response, request: a
 * conversation) or once this many bytes went through: handing over costs a few system calls and objects, more
 * than the whole of a one-exchange session (a request, a response, the FINs) would save.
 */
const RELAY_AT_RUN = 3;
const RELAY_AFTER_BYTES = 262_144;

/** What the balancing algorithms see of a session: its source (an instance, not a literal: see close-hooks.ts). */
class SourceContext implements PickContext {
  constructor(readonly source: string) {}
}

export class TcpSession implements QueueClient, Tracked, ConnHandler, RelayHandler {
  /** Its place in the proxy's connection list (Tracked). */
  trackPos = -1;
  readonly pickContext: PickContext;
  private backend: Backend | undefined;
  private lease: Lease<ServerMeta> | undefined;
  private upstream: Conn | undefined;
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
  /** The native relay moving the bytes (relay.ts) once it took the session over. */
  private relay: Relay | undefined;
  /** Which way the last bytes went (1: to the server, 2: to the client), and how many runs one way there were. */
  private lastWay = 0;
  private runs = 0;
  /** RELAY_AT_RUN once connected, when the relay can take both connections; never otherwise. */
  private relayRun = Number.POSITIVE_INFINITY;

  constructor(
    private readonly core: ProxyCore,
    private readonly fe: FrontendRuntime,
    private readonly client: Conn,
    /** The client's endpoints from an accepted PROXY header (acceptProxy), else read from the socket. */
    private readonly peer?: ClientPeer,
  ) {
    this.startedAt = core.clock.now();
    this.source = peer?.address ?? client.remoteAddress ?? "";
    this.pickContext = new SourceContext(this.source);
    core.track(this);
    // every report is guarded by the connection: an exception ends this session (termination I), never the process
    client.handler = this;
    client.pause(); // nothing is read before a server is connected
    client.idle(fe.cfg.timeouts.client);
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

  // ---- reports of both connections (ConnHandler) ----
  connData(c: Conn, d: Buffer): void {
    if (c === this.client) this.onClientData(d);
    else if (c === this.upstream) this.onServerData(c, d);
  }
  connEnd(c: Conn): void {
    if (c === this.client) this.onClientEnd();
    else this.onServerEnd(c);
  }
  connClose(c: Conn): void {
    if (c === this.client) this.onClientClose();
    else this.onUpstreamClose(c);
  }
  connDrain(c: Conn): void {
    if (c === this.client) this.upstream?.resume();
    else this.client.resume();
  }
  connTimeout(c: Conn): void {
    if (c === this.client) this.onTimeout("client-timeout");
    else this.onUpstreamTimeout(c);
  }
  connConnect(c: Conn): void {
    this.onConnect(c);
  }
  connFailure(_c: Conn, e: unknown): void {
    this.failed(e);
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
      (this.backend as Backend).finish(lease, outcome(true, undefined, "client-abort"));
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
    // TLS when the server has `ssl` (connected once the handshake verified)
    const up = dial(meta, this.core.env);
    this.upstream = up;
    up.handler = this;
    up.resume(); // reads once connected
    if (meta.sendProxy) up.write(proxyHeaderFor(meta.sendProxy, this.peer ?? socketPeer(this.client)));
    up.idle(be.cfg.timeouts.connect);
  }

  private onConnect(up: Conn): void {
    if (up !== this.upstream) return;
    this.connected = true;
    this.tConnected = this.core.clock.now();
    note(this.t, "tunnel");
    const to = (this.backend as Backend).cfg.timeouts;
    up.idle(to.tunnel ?? to.server);
    if (to.tunnel !== undefined) this.client.idle(to.tunnel);
    const early = this.early;
    this.early = undefined;
    if (early) for (const b of early) up.write(b);
    if (relayable(this.client, up)) {
      this.relayRun = RELAY_AT_RUN;
      if (nativeRelay().eager) this.takeOver(up);
      if (this.relay !== undefined) return;
    }
    this.client.resume();
  }

  /** Bytes went one way (1: to the server, 2: to the client): hands the session to the native relay when due. */
  private moved(way: number): void {
    if (way !== this.lastWay) {
      this.lastWay = way;
      this.runs++;
    }
    if (this.runs < this.relayRun && this.bytesIn + this.bytesOut < RELAY_AFTER_BYTES) return;
    if (this.relayRun === Number.POSITIVE_INFINITY || this.clientEnded || this.serverEnded) return;
    this.takeOver(this.upstream as Conn);
  }

  /** The relay takes the session when nothing waits to be written (else asked again on the next bytes). */
  private takeOver(up: Conn): void {
    const r = startRelay(this.client, up, this);
    if (r === null)
      this.relayRun = Number.POSITIVE_INFINITY; // refused: JavaScript keeps the session
    else this.relay = r;
  }

  // ---- reports of the native relay (RelayHandler): side 0 is the client, 1 the server ----
  relayEnd(side: 0 | 1): void {
    this.guard(() => {
      if (side === 0) {
        this.clientEnded = true; // its FIN went on to the server
        (this.upstream as Conn).idle((this.backend as Backend).cfg.timeouts.serverFin);
      } else {
        this.serverEnded = true;
        this.client.idle(this.fe.cfg.timeouts.clientFin);
      }
    });
  }
  relayDone(): void {
    this.guard(() => {
      this.clientEnded = true;
      this.serverEnded = true;
      this.end();
    });
  }
  relayError(side: 0 | 1): void {
    this.guard(() => {
      // as a read or write error on that connection: it closes, and the session with it
      if (!(this.clientEnded && this.serverEnded)) note(this.t, side === 0 ? "client-abort" : "server-abort");
      this.end();
    });
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
    if (up === undefined) return;
    if (!up.write(d)) this.client.pause();
    else if (this.relay === undefined) this.moved(1);
  }

  /** Bytes from the server, written to the client; the read buffer is reused when the client took them whole. */
  private onServerData(up: Conn, d: Buffer): void {
    this.bytesOut += d.length;
    const ok = this.client.write(d);
    if (this.client.pending === 0) up.recycle = true;
    if (!ok)
      up.pause(); // a 'drain' follows a false answer
    else if (this.relay === undefined) this.moved(2);
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
    up.idle((this.backend as Backend).cfg.timeouts.serverFin);
  }

  private onServerEnd(up: Conn): void {
    if (up !== this.upstream) return;
    this.serverEnded = true;
    this.client.end();
    this.client.idle(this.fe.cfg.timeouts.clientFin);
  }

  private onClientClose(): void {
    if (this.finished) return;
    if (!(this.clientEnded && this.serverEnded)) note(this.t, "client-abort");
    this.end();
  }

  private onUpstreamClose(up: Conn): void {
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

  private onUpstreamTimeout(up: Conn): void {
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
    const up = this.upstream as Conn;
    this.upstream = undefined;
    this.lease = undefined;
    up.destroy();
    be.finish(lease, outcome(false, undefined, code));
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
    const relay = this.relay;
    if (relay !== undefined) {
      relay.stop();
      this.bytesIn += relay.bytes(0);
      this.bytesOut += relay.bytes(1);
    }
    const cause = this.t.cause;
    const clean = cause === "-";
    // a clean end has both FINs through already; otherwise nothing more is owed to either side
    this.client.destroy();
    this.upstream?.destroy();
    if (this.lease) {
      const serverFault = cause === "S" || cause === "s";
      const code = serverFault ? (cause === "s" ? "timeout" : "reset") : clean ? undefined : "client-abort";
      (this.backend as Backend).finish(
        this.lease,
        outcome(!serverFault, undefined, code, this.core.clock.now() - this.startedAt),
      );
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
