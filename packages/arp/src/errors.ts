/** What went wrong, for callers that branch on it. */
export type ArpErrorCode =
  | "EADDRESS" // malformed IPv4/IPv6 address
  | "EMAC" // malformed MAC address
  | "ECONFIG" // an option out of range
  | "ENOINTERFACE" // no such interface
  | "EPERM" // no CAP_NET_RAW
  | "ESEND" // the kernel refused a frame
  | "ENATIVE" // the AF_PACKET addon is not built / cannot load
  | "EFRAME"; // a frame that does not parse

/** The error class of @lbkit/arp. Messages read `arp: <what> <value> <why/fix>`. */
export class ArpError extends Error {
  override readonly name = "ArpError";
  readonly code: ArpErrorCode;
  constructor(code: ArpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
