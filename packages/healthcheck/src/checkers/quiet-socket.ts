/**
 * Quiet connects for plain TCP checks, as HAProxy makes them: the socket has TCP_QUICKACK off, so the ACK that
 * would end the handshake is held back, and the check resets the connection as soon as it is established (the
 * server's SYN-ACK proved the port listens). The server's kernel never completes the handshake and its program
 * never accepts; both kernels do less per check (bench/healthcheck: the tcp rows).
 *
 * Node.js offers no TCP_QUICKACK, so the socket comes from a small Node-API addon (native/quiet_socket.c),
 * built at install by node-gyp-build. Without it (no compiler at install, pnpm not allowed to build the package,
 * not Linux) plain checks complete the handshake and close as before: the same results, more kernel work.
 * `LBKIT_HEALTHCHECK_QUIET=0` turns quiet connects off.
 */
import { closeSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

/** Loads the addon once (`root`, the package directory by default, and `env` are for tests). */
export function loadQuiet(
  root?: string,
  env: NodeJS.ProcessEnv = process.env,
): { native: QuietNative | undefined; info: QuietConnects } {
  if (env.LBKIT_HEALTHCHECK_QUIET === "0")
    return { native: undefined, info: { on: false, reason: "LBKIT_HEALTHCHECK_QUIET=0 turns them off" } };
  const dir = root ?? packageRoot();
  try {
    const require = createRequire(import.meta.url);
    const load = require("node-gyp-build") as (dir: string) => QuietNative;
    const native = load(dir);
    const fd = native.quietSocket(4);
    if (fd < 0)
      return { native: undefined, info: { on: false, reason: `quietSocket() failed: errno ${-fd}` } };
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

/** The package directory (where binding.gyp is): above dist/index.js when built, above src/checkers/ in tests. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 3 && !existsSync(join(dir, "binding.gyp")); i++) dir = dirname(dir);
  return dir;
}

function quiet(): { native: QuietNative | undefined; info: QuietConnects } {
  loaded ??= loadQuiet();
  return loaded;
}

/** Whether plain connect checks are quiet, and why. */
export function quietConnects(): QuietConnects {
  return quiet().info;
}

/**
 * A quiet socket descriptor for `family` (4 or 6), or -1 when quiet connects are off or the socket could not be
 * made (the caller then connects as usual).
 */
export function quietSocket(family: 4 | 6): number {
  const n = quiet().native;
  if (n === undefined) return -1;
  const fd = n.quietSocket(family);
  return fd >= 0 ? fd : -1;
}

/** Tests: load again on next use (after changing the environment). */
export function reloadQuiet(): void {
  loaded = undefined;
}
