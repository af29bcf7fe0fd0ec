/**
 * The native relay (native/relay.c): once an L4 session is handed over (l4.ts: when it turned out to be a
 * conversation, or at connect with `LBKIT_PROXY_RELAY=eager`), the bytes between its two lean connections are
 * copied on the event loop by a small Node-API addon (uv_poll on both descriptors: read, send at
 * once, keep what the receiver did not take and stop reading that direction until it left, pass a FIN on),
 * instead of reaching JavaScript one read callback at a time. A keep-alive request through the L4 proxy then
 * costs no JavaScript at all; what remains of it is what HAProxy's own costs: the kernel's work and a few calls
 * (bench/proxy). JavaScript hears only what changes a session (`RelayHandler`), and keeps its timeouts: a
 * lent connection's inactivity timeout asks the relay when that side last moved (`ago`).
 *
 * Built at install by node-gyp-build. Without it (no compiler at install, pnpm not allowed to build the package,
 * not Linux), or with `LBKIT_PROXY_RELAY=0`, L4 sessions relay in JavaScript as before: the same behaviour on the
 * wire, more CPU per request (timeouts may fire up to one event-loop turn later with the relay: its activity
 * times are the loop's). `LBKIT_PROXY_RELAY=eager` hands every session over at connect, not only conversations (l4.ts).
 * `nativeRelay()` says which and why.
 */
import { createRequire } from "node:module";
import { packageDir } from "@lbkit/core";
import type { Conn } from "./conn.js";
import { HandleConn } from "./handle-conn.js";

/** What a relay reports, from the event loop; after `relayDone` or `relayError`, nothing more. */
export interface RelayHandler {
  /**
   * `side` (0: the first connection given, 1: the second) sent its FIN, and it went on to the other side, while
   * the other direction goes on (at most once; a FIN that ends both directions comes as `relayDone`).
   */
  relayEnd(side: 0 | 1): void;
  /** Both directions ended and each FIN went on: the relay stopped. */
  relayDone(): void;
  /** Reading from or writing to `side` failed (`errno`, negative: a reset, mostly): the relay stopped. */
  relayError(side: 0 | 1, errno: number): void;
}

interface RelayNative {
  init(report: (owner: Relay, kind: number, side: number, err: number) => void): void;
  start(owner: Relay, fdA: number, fdB: number): unknown;
  stop(relay: unknown): void;
  info(relay: unknown, out: Float64Array): void;
}

export interface NativeRelay {
  /** L4 sessions over lean connections relay their bytes in the addon. */
  on: boolean;
  /**
   * It takes every session as soon as its server is connected (`LBKIT_PROXY_RELAY=eager`), not only once the
   * session turned out to be a conversation (see l4.ts).
   */
  eager: boolean;
  /** Why (for off: what is missing). */
  reason: string;
}

const END = 1;
const DONE = 2;
const ERROR = 3;

/** One session's relay. */
export class Relay {
  private running = true;
  private final: [number, number] | undefined;
  constructor(
    private readonly native: RelayNative,
    readonly handler: RelayHandler,
    /** The addon's handle, set right after it started. */
    public ext: unknown = undefined,
  ) {}

  /** Stops polling (idempotent); what each side sent stays readable through `bytes`. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.native.info(this.ext, INFO);
    this.final = [INFO[0] as number, INFO[1] as number];
    this.native.stop(this.ext);
  }

  /** Bytes read from `side` so far. */
  bytes(side: 0 | 1): number {
    if (this.final !== undefined) return this.final[side];
    this.native.info(this.ext, INFO);
    return INFO[side] as number;
  }

  /** Milliseconds since `side` last read or was written to (the event loop's clock); -1 once stopped. */
  ago(side: 0 | 1): number {
    if (!this.running) return -1;
    this.native.info(this.ext, INFO);
    return INFO[2 + side] as number;
  }
}

const INFO = new Float64Array(4);

let loaded: { native: RelayNative | undefined; info: NativeRelay } | undefined;

function onReport(owner: Relay, kind: number, side: number, err: number): void {
  const h = owner.handler;
  if (kind === END) {
    h.relayEnd(side as 0 | 1);
    return;
  }
  owner.stop(); // the addon stopped: keep its counts
  if (kind === DONE) h.relayDone();
  else if (kind === ERROR) h.relayError(side as 0 | 1, err);
}

/** Loads the addon once (`root`, the package directory by default, and `env` are for tests). */
export function loadRelay(
  root?: string,
  env: NodeJS.ProcessEnv = process.env,
): { native: RelayNative | undefined; info: NativeRelay } {
  if (env.LBKIT_PROXY_RELAY === "0")
    return {
      native: undefined,
      info: { on: false, eager: false, reason: "LBKIT_PROXY_RELAY=0 turns it off" },
    };
  const v = env.LBKIT_PROXY_RELAY;
  if (v !== undefined && v !== "" && v !== "1" && v !== "eager")
    return {
      native: undefined,
      info: {
        on: false,
        eager: false,
        reason: `LBKIT_PROXY_RELAY=${JSON.stringify(v)} is not one of 0, 1, eager`,
      },
    };
  const eager = v === "eager";
  try {
    const require = createRequire(import.meta.url);
    const load = require("node-gyp-build") as (dir: string) => RelayNative;
    const native = load(root ?? packageDir("@lbkit/proxy", import.meta.url));
    native.init(onReport);
    return {
      native,
      info: {
        on: true,
        eager,
        reason: `L4 sessions relay their bytes in the addon (native/relay.c)${eager ? " from their connect on (LBKIT_PROXY_RELAY=eager)" : ""}`,
      },
    };
  } catch (err) {
    return {
      native: undefined,
      info: {
        on: false,
        eager: false,
        reason:
          `the relay addon is not built (${(err as Error).message.split("\n")[0]}); ` +
          "reinstall with python3, make and a C compiler (pnpm: allow the package in onlyBuiltDependencies)",
      },
    };
  }
}

function relayNative(): RelayNative | undefined {
  loaded ??= loadRelay();
  return loaded.native;
}

/** Whether L4 sessions over lean connections use the native relay, and why. */
export function nativeRelay(): NativeRelay {
  loaded ??= loadRelay();
  return loaded.info;
}

/** Tests: load again on next use (after changing the environment). */
export function reloadRelay(): void {
  loaded = undefined;
}

/** Whether the relay could take `a` and `b` (when nothing waits to be written): it is on, and both are lean. */
export function relayable(a: Conn, b: Conn): boolean {
  return a instanceof HandleConn && b instanceof HandleConn && relayNative() !== undefined;
}

/**
 * Hands `a` and `b` to a native relay reporting to `handler`. Both stop reading; each connection's `destroy()`
 * stops the relay first. Nothing changes when it answers undefined (the addon is off, either is not a lean
 * connection or has ended, or bytes are still queued: maybe later) or null (the addon refused the descriptors,
 * say a handle still polls one: do not ask again for these two).
 */
export function startRelay(a: Conn, b: Conn, handler: RelayHandler): Relay | undefined | null {
  if (!(a instanceof HandleConn) || !(b instanceof HandleConn)) return undefined;
  if (a.destroyed || b.destroyed || a.pending !== 0 || b.pending !== 0 || a.readEnded || b.readEnded)
    return undefined;
  const native = relayNative();
  if (native === undefined) return undefined;
  const r = new Relay(native, handler);
  a.lend(r, 0);
  b.lend(r, 1);
  const ext = native.start(r, a.fd, b.fd);
  if (typeof ext === "number") {
    // not taken (a handle still polls a descriptor, say): both read again as they did
    a.lend(undefined, 0);
    b.lend(undefined, 1);
    return null;
  }
  r.ext = ext;
  return r;
}
