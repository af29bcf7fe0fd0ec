/**
 * HAProxy `capture request header <name> len <n>` / `capture response header …` (pure): the frontend option, its
 * validation, and the captured values as the access log shows them (clipped to `len`, absent as empty).
 */
import { ProxyConfigError } from "../errors.js";

export interface CaptureOptions {
  /** Request header names to record in the log, in order. */
  request?: readonly string[];
  /** Response header names to record in the log, in order. */
  response?: readonly string[];
  /** Longest value kept, characters. Default 64. */
  len?: number;
}

export interface NormalCapture {
  request: readonly string[];
  response: readonly string[];
  len: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function normaliseCapture(at: string, v: unknown): NormalCapture | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null)
    throw new ProxyConfigError(at, v, 'must be { request?: ["host", …], response?: […], len? }');
  for (const k of Object.keys(v))
    if (!["request", "response", "len"].includes(k))
      throw new ProxyConfigError(`${at}.${k}`, k, "is not an option (known: request, response, len)");
  const o = v as CaptureOptions;
  const names = (side: "request" | "response") => {
    const list = o[side] ?? [];
    if (!Array.isArray(list))
      throw new ProxyConfigError(`${at}.${side}`, list, "must be an array of header names");
    for (const n of list)
      if (typeof n !== "string" || !TOKEN.test(n))
        throw new ProxyConfigError(`${at}.${side}`, n, "must be header names (RFC 9110 tokens)");
    return list.map((n: string) => n.toLowerCase());
  };
  const len = o.len ?? 64;
  if (!Number.isInteger(len) || len < 1 || len > 65536)
    throw new ProxyConfigError(`${at}.len`, len, "must be an integer 1..65536");
  return { request: names("request"), response: names("response"), len };
}

/** The values of `names` from a head (`get`), clipped; "" when absent or when there is no head. */
export function captureFrom(
  names: readonly string[],
  head: { get(name: string): string | undefined } | undefined,
  len: number,
): string[] {
  return names.map((n) => {
    const v = head?.get(n);
    return v === undefined ? "" : v.length > len ? v.slice(0, len) : v;
  });
}
