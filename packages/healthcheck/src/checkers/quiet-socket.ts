/**
 * Quiet connects for plain TCP checks, as HAProxy makes them: the socket has TCP_QUICKACK off, so the ACK that
 * would end the handshake is held back (up to 200 ms), and a zero linger, so the check's close as soon as it is
 * established (the server's SYN-ACK proved the port listens) is a RST. The server's kernel does not complete the
 * handshake and its program does not accept; both kernels do less per check (bench/healthcheck: the tcp rows).
 * They need the lean transport (tcp-handle.ts): checks over `net.Socket` connect as usual.
 *
 * Node.js offers no TCP_QUICKACK, so the socket comes from a small Node-API addon (native/quiet_socket.c),
 * built at install by node-gyp-build. Without it (no compiler at install, pnpm not allowed to build the package,
 * not Linux) plain checks complete the handshake and close as before: the same results, more kernel work.
 * `LBKIT_HEALTHCHECK_QUIET=0` turns quiet connects off.
 */
import { closeSync } from "node:fs";
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";

import { packageDir } from "@lbkit/core";
import { checkTransport, tcpHandleBindings } from "./tcp-handle.js";

interface QuietNative {
  quietSocket(family: number): number;
}

export interface QuietConnects {
  /** Plain connect checks use quiet sockets. */
  on: boolean;
  /** Why (for off: what is missing). */
  reason: string;
}

let loaded: { native: QuietNative | undefined; info: QuietConnects } | undefined;
/** The addon's functions once `quietConnects()` has said on (checks ask on every connect); reset with `loaded`. */
let quietNative: QuietNative | null | undefined;

/** Loads the addon once (`root`, the package directory by default, and `env` are for tests). */
export function loadQuiet(
  root?: string,
  env: NodeJS.ProcessEnv = process.env,
): { native: QuietNative | undefined; info: QuietConnects } {
  if (env.LBKIT_HEALTHCHECK_QUIET === "0")
    return { native: undefined, info: { on: false, reason: "LBKIT_HEALTHCHECK_QUIET=0 turns them off" } };
  const dir = root ?? packageDir("@lbkit/healthcheck", import.meta.url);
  try {
    const require = createRequire(import.meta.url);
    const load = require("node-gyp-build") as (dir: string) => QuietNative;
    const native = load(dir);
    const fd = native.quietSocket(4);
    if (fd < 0) {
      const why = fd === -osConstants.errno.ENOSYS ? "TCP_QUICKACK is Linux-only" : `errno ${-fd}`;
      return { native: undefined, info: { on: false, reason: `quietSocket() failed: ${why}` } };
    }
    closeSync(fd);
    return { native, info: { on: true, reason: "TCP_QUICKACK off and a RST after connect, as HAProxy" } };
  } catch (err) {
    return {
      native: undefined,
      info: {
        on: false,
        reason:
          `the quiet-socket addon is not built (${(err as Error).message.split("\n")[0]}); ` +
          "reinstall with python3, make and a C compiler (pnpm: allow the package in onlyBuiltDependencies)",
      },
    };
  }
}

function quiet(): { native: QuietNative | undefined; info: QuietConnects } {
  loaded ??= loadQuiet();
  return loaded;
}

/** Whether plain connect checks to IP addresses are quiet, and why. */
export function quietConnects(): QuietConnects {
  const info = quiet().info;
  if (!info.on) return info;
  const lean = tcpHandleBindings();
  if (lean === undefined) return { on: false, reason: `checks use net.Socket (${checkTransport().reason})` };
  if (typeof (lean.TCP.prototype as { open?: unknown }).open !== "function")
    return { on: false, reason: "this Node.js's TCP handle has no open()" };
  return info;
}

/**
 * A quiet socket descriptor for `family` (4 or 6), or -1 when quiet connects are off or the socket could not be
 * made (the caller then connects as usual).
 */
export function quietSocket(family: 4 | 6): number {
  quietNative ??= quietConnects().on ? (quiet().native ?? null) : null;
  if (quietNative === null) return -1;
  const fd = quietNative.quietSocket(family);
  return fd >= 0 ? fd : -1;
}

/** Tests: load again on next use (after changing the environment). */
export function reloadQuiet(): void {
  loaded = undefined;
  quietNative = undefined;
}
