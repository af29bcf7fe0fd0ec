import {
  type ConfigErrorFields,
  configMessage,
  LbkitError,
  type LbkitErrorOptions,
  validators,
} from "@lbkit/core";

/**
 * Stable codes of {@link BalancerError}:
 * - `ERR_CONFIG`: a bad option, at construction or in a run-time change ({@link BalancerConfigError})
 * - `ERR_UNKNOWN_SERVER`: a run-time call named a server id the pool does not hold
 * - `ERR_INVALID_ARGUMENT`: a call got an argument of the wrong kind (`acquire(undefined)`)
 */
export type BalancerErrorCode = "ERR_CONFIG" | "ERR_UNKNOWN_SERVER" | "ERR_INVALID_ARGUMENT";

/** Every error @lbkit/balancer throws. `pick()` and `candidates()` never throw. */
export class BalancerError extends LbkitError {
  override name = "BalancerError";
  declare readonly code: BalancerErrorCode;

  constructor(code: BalancerErrorCode, message: string, options?: LbkitErrorOptions) {
    super("balancer", code, message, options);
  }
}

/** A bad option: `balancer: <option> <value> <fix>`, with the three as fields. */
export class BalancerConfigError extends BalancerError implements ConfigErrorFields {
  override name = "BalancerConfigError";
  readonly option: string;
  readonly value: unknown;
  readonly fix: string;

  constructor(option: string, value: unknown, fix: string) {
    super("ERR_CONFIG", configMessage("balancer", option, value, fix));
    this.option = option;
    this.value = value;
    this.fix = fix;
  }
}

export function configError(option: string, value: unknown, fix: string): BalancerConfigError {
  return new BalancerConfigError(option, value, fix);
}

/** core's validators, throwing {@link BalancerConfigError}. */
export const check = validators(configError);
