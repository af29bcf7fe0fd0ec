/** The error family of @lbkit/bgp, rooted in @lbkit/core's LbkitError. */
import { configMessage, LbkitError, type LbkitErrorOptions, validators } from "@lbkit/core";

/** Stable codes, for callers that branch on them. */
export type BgpErrorCode =
  | "ERR_CONFIG" // a bad option (BgpConfigError), at construction
  | "ERR_DAEMON" // the GoBGP daemon refused a call or is unreachable
  | "ERR_WATCH" // the daemon's event stream ended or failed
  | "ERR_TRANSPORT" // the BFD socket failed
  | "ERR_NOT_RUNNING" // a call that needs a started speaker
  | "ERR_DRAIN_TIMEOUT"; // the router did not move traffic away within the drain timeout

/** A runtime failure; `cause` holds the underlying error. */
export class BgpError extends LbkitError {
  override name = "BgpError";
  declare readonly code: BgpErrorCode;
  constructor(code: BgpErrorCode, message: string, options?: LbkitErrorOptions) {
    super("bgp", code, message, options);
  }
}

/** Thrown at construction when an option is out of range; names the option, the value and the fix. */
export class BgpConfigError extends BgpError {
  override name = "BgpConfigError";
  readonly option: string;
  readonly value: unknown;
  readonly fix: string;
  constructor(option: string, value: unknown, fix: string) {
    super("ERR_CONFIG", configMessage("bgp", option, value, fix));
    this.option = option;
    this.value = value;
    this.fix = fix;
  }
}

/** Option checks that throw BgpConfigError. */
export const check = validators((option, value, fix) => new BgpConfigError(option, value, fix));

/** Any thrown value as a BgpError of `code` (kept as is when it already is one). */
export function asBgpError(code: BgpErrorCode, what: string, e: unknown): BgpError {
  if (e instanceof BgpError) return e;
  return new BgpError(code, `bgp: ${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}
