/** The error family of @lbkit/kernel-lb: runtime failures (`KernelLbError`) and bad options (`KernelLbConfigError`). */
import { type ConfigErrorFields, configMessage, LbkitError, type LbkitErrorOptions } from "@lbkit/core";

/**
 * Stable codes: `ERR_NFT` (nft refused or failed a transaction; `cause` has its stderr), `ERR_NFT_MISSING` (no `nft`
 * binary), `ERR_NOT_RUNNING` (an operation that needs a started director), `ERR_UNKNOWN_SERVICE`, `ERR_IPVS_MISSING` (the
 * kernel has no IPVS: `modprobe ip_vs`), `ERR_IPVS` (IPVS refused a command; the message names it and the errno).
 */
export class KernelLbError extends LbkitError {
  override name = "KernelLbError";
  constructor(code: string, message: string, options?: LbkitErrorOptions) {
    super("kernel-lb", code, message, options);
  }
}

export class KernelLbConfigError extends KernelLbError implements ConfigErrorFields {
  override name = "KernelLbConfigError";
  readonly option: string;
  readonly value: unknown;
  readonly fix: string;
  constructor(option: string, value: unknown, fix: string) {
    super("ERR_CONFIG", configMessage("kernel-lb", option, value, fix));
    this.option = option;
    this.value = value;
    this.fix = fix;
  }
}
