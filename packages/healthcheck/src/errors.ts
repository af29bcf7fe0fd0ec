/**
 * Thrown at construction when a health-check option is invalid. The message reads
 * `healthcheck: <what> <value> <why/fix>`; `option` and `value` let callers branch on it.
 */
export class HealthCheckConfigError extends Error {
  override readonly name = "HealthCheckConfigError";
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, fix: string) {
    super(`healthcheck: ${option} ${show(value)} ${fix}`);
    this.option = option;
    this.value = value;
  }
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof RegExp) return String(value);
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** Throws unless `value` is an integer in `min..max`. */
export function requireInt(option: string, value: unknown, min: number, max: number, fix = ""): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
    throw new HealthCheckConfigError(option, value, `must be an integer ${range}${fix ? ` (${fix})` : ""}`);
  }
  return value;
}

/** Throws unless `value` is a finite number of milliseconds in `min..max`. */
export function requireMs(option: string, value: unknown, min: number, max: number, fix = ""): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new HealthCheckConfigError(
      option,
      value,
      `must be milliseconds in ${min}..${max}${fix ? ` (${fix})` : ""}`,
    );
  }
  return value;
}
