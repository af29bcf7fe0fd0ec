/** The error family of @lbkit/vrrp, rooted in @lbkit/core's LbkitError. */
import { configMessage, LbkitError, type LbkitErrorOptions, validators } from "@lbkit/core";

/** Stable codes, for callers that branch on them. */
export type VrrpErrorCode =
  | "ERR_CONFIG" // a bad option (VrrpConfigError), at construction
  | "ERR_ADDRESS" // an address that does not parse
  | "ERR_INTERFACE" // the interface is missing or has no usable address
  | "ERR_TRANSPORT" // opening, sending on or receiving from the transport failed
  | "ERR_TRANSPORT_CLOSED" // a send on a stopped transport
  | "ERR_VIP" // adding or removing a VIP (or the accept-mode filter, the VMAC) failed
  | "ERR_ANNOUNCE" // a gratuitous ARP / NA burst failed
  | "ERR_NOT_RUNNING" // handover() on a stopped instance
  | "ERR_HANDOVER_TIMEOUT" // no peer became master within the handover timeout
  | "ERR_CONFLICT"; // another router also claims to own the addresses (priority 255): a configuration error

/** A runtime failure (transport, VIP, announcement); `cause` holds the system error. */
export class VrrpError extends LbkitError {
  override name = "VrrpError";
  declare readonly code: VrrpErrorCode;
  constructor(code: VrrpErrorCode, message: string, options?: LbkitErrorOptions) {
    super("vrrp", code, message, options);
  }
}

/** Thrown at construction when an option is out of range; names the option, the value and the fix. */
export class VrrpConfigError extends VrrpError {
  override name = "VrrpConfigError";
  readonly option: string;
  readonly value: unknown;
  readonly fix: string;
  constructor(option: string, value: unknown, fix: string) {
    super("ERR_CONFIG", configMessage("vrrp", option, value, fix));
    this.option = option;
    this.value = value;
    this.fix = fix;
  }
}

/** Option checks that throw VrrpConfigError. */
export const check = validators((option, value, fix) => new VrrpConfigError(option, value, fix));

/** Any thrown value as a VrrpError of `code` (kept as is when it already is one). */
export function asVrrpError(code: VrrpErrorCode, what: string, e: unknown): VrrpError {
  if (e instanceof VrrpError) return e;
  return new VrrpError(code, `vrrp: ${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}
