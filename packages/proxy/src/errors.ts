/** The proxy's error family: `proxy: <what> <value> <why/fix>`, with a stable `code`. */

export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean")
    return String(value);
  if (value === undefined) return "undefined";
  if (value instanceof RegExp) return String(value);
  if (typeof value === "function") return "a function";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export class ProxyError extends Error {
  override name = "ProxyError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message.startsWith("proxy: ") ? message : `proxy: ${message}`);
  }
}

/** Bad configuration, at construction or on a runtime change: names the option, the value and the fix. */
export class ProxyConfigError extends ProxyError {
  override name = "ProxyConfigError";
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly fix: string,
  ) {
    super(`proxy: ${option} ${show(value)} ${fix}`, "ERR_CONFIG");
  }
}
