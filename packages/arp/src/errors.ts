/** The error family of @lbkit/arp, rooted in @lbkit/core's LbkitError. Messages read `arp: <what> <value> <why/fix>`. */
import { configMessage, LbkitError, type LbkitErrorOptions, validators } from "@lbkit/core";

/** What went wrong, for callers that branch on it (stable). */
export type ArpErrorCode =
  | "ERR_CONFIG" // an option out of range (ArpConfigError)
  | "ERR_ADDRESS" // malformed or unsuitable IPv4/IPv6 address
  | "ERR_MAC" // malformed MAC address
  | "ERR_NO_INTERFACE" // no such interface, or not an Ethernet-like one
  | "ERR_PERMISSION" // no CAP_NET_RAW
  | "ERR_SEND" // the kernel refused a frame, or the socket is closed
  | "ERR_NATIVE" // the AF_PACKET addon is not built / cannot load
  | "ERR_FRAME" // a frame that does not parse
  | "ERR_FILTER" // attaching a socket filter (attachSocketFilter) failed
  | "ERR_NOT_STARTED"; // announceNow() before start()

export class ArpError extends LbkitError {
  override name = "ArpError";
  declare readonly code: ArpErrorCode;
  constructor(code: ArpErrorCode, message: string, options?: LbkitErrorOptions) {
    super("arp", code, message, options);
  }
}

/** A bad option: thrown at construction (or by announce() before anything is sent). */
export class ArpConfigError extends ArpError {
  override name = "ArpConfigError";
  readonly option: string;
  readonly value: unknown;
  readonly fix: string;
  constructor(option: string, value: unknown, fix: string) {
    super("ERR_CONFIG", configMessage("arp", option, value, fix));
    this.option = option;
    this.value = value;
    this.fix = fix;
  }
}

/** Option checks that throw ArpConfigError. */
export const check = validators((option, value, fix) => new ArpConfigError(option, value, fix));
