/**
 * The root of every lbkit error family. Each package derives `<Pkg>Error` (with its own stable codes) and
 * `<Pkg>ConfigError` (code `ERR_CONFIG`, carrying `option`, `value` and `fix`) from these, so callers can branch on
 * `err instanceof LbkitError`, on `err.package` or on `err.code` across packages.
 */

export interface LbkitErrorOptions {
  cause?: unknown;
}

export class LbkitError extends Error {
  override name = "LbkitError";
  /** Stable, upper-snake: `ERR_CONFIG`, `ERR_TRANSPORT_CLOSED`, `ERR_NO_SERVER`… */
  readonly code: string;
  /** The package the error comes from: "balancer", "healthcheck", "vrrp", "arp", "proxy", "core". */
  readonly package: string;

  constructor(pkg: string, code: string, message: string, options?: LbkitErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.package = pkg;
    this.code = code;
  }
}

/** What every config error carries besides its message. */
export interface ConfigErrorFields {
  /** the option at fault, as the user wrote it: "priority", "servers[2].weight" */
  readonly option: string;
  /** the value given */
  readonly value: unknown;
  /** what to do instead: "must be an integer 1..254 (255 is reserved for the address owner)" */
  readonly fix: string;
}

/**
 * The base of `<Pkg>ConfigError`: message `<pkg>: <option> <value> <fix>`, code `ERR_CONFIG`.
 * Packages subclass it only to give it their name (`class VrrpConfigError extends ConfigError {}`), or derive
 * from their own `<Pkg>Error` and reuse `configMessage`.
 */
export class ConfigError extends LbkitError implements ConfigErrorFields {
  override name = "ConfigError";
  readonly option: string;
  readonly value: unknown;
  readonly fix: string;

  constructor(pkg: string, option: string, value: unknown, fix: string) {
    super(pkg, "ERR_CONFIG", configMessage(pkg, option, value, fix));
    this.option = option;
    this.value = value;
    this.fix = fix;
  }
}

/** `<pkg>: <option> <value> <fix>` — the one message shape for a bad option. */
export function configMessage(pkg: string, option: string, value: unknown, fix: string): string {
  return `${pkg}: ${option} ${showValue(value)} ${fix}`;
}

/** A value as it appears in an error message: strings quoted, objects as JSON, never throws. */
export function showValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean")
    return String(value);
  if (value === undefined) return "undefined";
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "symbol") return value.toString();
  if (value instanceof RegExp) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
