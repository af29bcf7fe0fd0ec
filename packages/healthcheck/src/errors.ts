/**
 * The healthcheck error family: `HealthCheckError` (rooted in core's `LbkitError`, with a stable `code`) and
 * `HealthCheckConfigError` (code `ERR_CONFIG`, with `option`, `value` and `fix`), thrown at construction.
 */
import {
  type ConfigErrorFields,
  configMessage,
  LbkitError,
  type LbkitErrorOptions,
  validators,
} from "@lbkit/core";

/**
 * Stable codes:
 * - `ERR_CONFIG`: a bad option (a `HealthCheckConfigError`), thrown at construction;
 * - `ERR_CHECK_TIMEOUT`: the reason a check's signal is aborted at its timeout;
 * - `ERR_STOPPED`, `ERR_TARGET_REMOVED`: the reason a check's signal is aborted by `stop()` / `remove(id)`;
 * - `ERR_CHECKER`: a checker rejected or threw instead of resolving a result (emitted as `error`; the check
 *   counts as failed);
 * - `ERR_CHECK_ABANDONED`: a checker ignored its abort and was abandoned after `abortGrace` (emitted as `error`);
 * - `ERR_DUPLICATE`: a scheduler key added twice.
 */
export type HealthCheckErrorCode =
  | "ERR_CONFIG"
  | "ERR_CHECK_TIMEOUT"
  | "ERR_STOPPED"
  | "ERR_TARGET_REMOVED"
  | "ERR_CHECKER"
  | "ERR_CHECK_ABANDONED"
  | "ERR_DUPLICATE";

export class HealthCheckError extends LbkitError {
  override name = "HealthCheckError";
  declare readonly code: HealthCheckErrorCode;

  constructor(code: HealthCheckErrorCode, message: string, options?: LbkitErrorOptions) {
    super("healthcheck", code, message, options);
  }
}

/** A bad option: `healthcheck: <option> <value> <fix>`. */
export class HealthCheckConfigError extends HealthCheckError implements ConfigErrorFields {
  override name = "HealthCheckConfigError";
  readonly option: string;
  readonly value: unknown;
  readonly fix: string;

  constructor(option: string, value: unknown, fix: string) {
    super("ERR_CONFIG", configMessage("healthcheck", option, value, fix));
    this.option = option;
    this.value = value;
    this.fix = fix;
  }
}

/** Core's validators, throwing `HealthCheckConfigError`. */
export const v = validators((option, value, fix) => new HealthCheckConfigError(option, value, fix));
