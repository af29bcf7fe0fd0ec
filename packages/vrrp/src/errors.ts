/** The package's typed errors: bad configuration (at construction) and runtime failures with context. */

/** Thrown by `createInstance`/`validateConfig` when an option is out of range; the message names the value and the fix. */
export class VrrpConfigError extends Error {
  override readonly name = "VrrpConfigError";
  constructor(
    message: string,
    /** the option at fault, e.g. "priority" */
    readonly option: string,
  ) {
    super(message);
  }
}

/** A transport, VIP or announce step failed; `cause` holds the system error. */
export class VrrpError extends Error {
  override readonly name = "VrrpError";
}
