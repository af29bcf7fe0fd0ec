/** Thrown at construction or on a runtime change when the configuration is wrong. */
export class BalancerConfigError extends Error {
  override readonly name = "BalancerConfigError";
}

/** `balancer: <what> <value> <why/fix>` */
export function configError(message: string): BalancerConfigError {
  return new BalancerConfigError(`balancer: ${message}`);
}

export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean")
    return String(value);
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
