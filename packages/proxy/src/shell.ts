/**
 * What the L4 and L7 shells need from the Proxy that owns them (one-way: shells never import proxy.ts).
 * Connections are `Conn`s (conn.ts): lean TCP handles or net.Sockets. Inactivity timeouts and absolute
 * deadlines read the injected Clock.
 */

import type { Clock, Timers } from "@lbkit/core";
import type { Backend } from "./backend.js";
import type { NormalFrontend } from "./config.js";
import type { Deadlines } from "./deadlines.js";
import type { ConnEnv } from "./handle-conn.js";
import type { RequestHead } from "./http/types.js";
import type { Router } from "./route.js";

export interface FrontendRuntime {
  readonly cfg: NormalFrontend;
  /** Swapped whole at run time (setRules): a request reads it once, when it is routed. */
  router: Router;
}

/** One line of HAProxy's `tcplog`/`httplog`, emitted as the `request` (L7) or `session` (L4) event. */
export interface TransactionLog {
  frontend: string;
  backend: string | undefined;
  server: string | undefined;
  client: string;
  /** The client's source port (0 if unknown), for logs. */
  clientPort: number;
  /** HTTP status sent to the client (L7), undefined for L4. */
  status: number | undefined;
  /** HAProxy's two-letter termination state (`--` when normal). */
  termination: string;
  retries: number;
  /** Of those retries, how many went to another server (HAProxy redispatch). */
  redispatches: number;
  /**
   * Requests ahead in the queue this one joined (HAProxy backend_queue, or srv_queue when `serverQueued`), -1 if
   * never queued.
   */
  queuePos: number;
  /** It waited in its server's own queue (it was bound to that server), not in the backend's. */
  serverQueued?: boolean;
  /** Ms from accept (L4) / first request byte (L7) to the end. */
  duration: number;
  /** Wall-clock start (ms since the epoch), for logs. */
  at: number;
  /**
   * HAProxy's timers in ms, -1 for a stage never reached: `request` (TR: first byte to a complete head), `queue`
   * (Tw), `connect` (Tc, the last attempt), `response` (Tr: request sent to response head), `total` (Ta/Tt).
   */
  timers: { request: number; queue: number; connect: number; response: number; total: number };
  bytesIn: number;
  bytesOut: number;
  method?: string;
  path?: string;
  /** Header values the frontend's `capture` option names (HAProxy's `{…}` blocks in httplog). */
  captured?: { request: string[]; response: string[] };
}

/** A live connection the proxy can wind down (graceful stop) or kill. */
export interface Tracked {
  /** Where the proxy's connection list keeps it (tracked-list.ts); -1 when not tracked. */
  trackPos: number;
  /** Stop after the current request (L7: close when idle; L4: nothing to do until it ends). */
  drain(): void;
  /** Destroy now (termination K). */
  kill(): void;
  /** Whether a request or session of this connection holds `server` of `backend` now (admin shutdown sessions). */
  holds(backend: string, server: string): boolean;
}

export interface ProxyCore {
  readonly clock: Clock;
  readonly timers: Timers;
  /** Many deadlines behind one timer: L7 head deadlines, lean connections' inactivity timeouts. */
  readonly deadlines: Deadlines;
  /** Lean connections (handle-conn.ts), or undefined when every connection is a net.Socket. */
  readonly env: ConnEnv | undefined;
  /** The same for L7 (HTTP) connections: their reads are batched when the addon is built (batch-reads.ts). */
  readonly httpEnv: ConnEnv | undefined;
  backend(id: string): Backend | undefined;
  track(t: Tracked): void;
  untrack(t: Tracked): void;
  /** Emits `request`/`session` when someone listens. */
  log(kind: "request" | "session", entry: TransactionLog): void;
  wantsLog(kind: "request" | "session"): boolean;
  /** The stats page answer (frontend `stats` option), or undefined when `req` is not for it. */
  statsPage(
    fe: FrontendRuntime,
    req: RequestHead,
    close: boolean,
  ): { status: number; bytes: Buffer } | undefined;
  error(err: Error): void;
}
