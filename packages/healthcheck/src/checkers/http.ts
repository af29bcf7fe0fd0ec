/**
 * HTTP(S) check, HAProxy `option httpchk` + `http-check send` + `http-check expect status|string|rstring`:
 * method, path, headers, Host; expected status list/ranges; optional body match; HTTPS with SNI.
 * Like HAProxy, each check opens a new connection, writes one HTTP/1.1 request with `Connection: close`
 * and reads just enough of the response (ResponseReader) — much cheaper than a general HTTP client when
 * thousands of targets are checked every second.
 */
import net from "node:net";
import { HealthCheckConfigError, v } from "../errors.js";
import { type Checker, type CheckResult, down, up } from "../result.js";
import { attemptChecker } from "./attempt.js";
import { openConnection, type TlsOptions } from "./connection.js";
import { checkHost } from "./host.js";
import { ResponseReader } from "./http-response.js";

export interface HttpCheckOptions {
  host: string;
  port?: number;
  /** Use HTTPS. */
  https?: boolean;
  /** Default GET. */
  method?: string;
  /** Default `/`. */
  path?: string;
  /** The Host header. Default `host:port`. */
  hostHeader?: string;
  headers?: Record<string, string>;
  /** TLS server name (SNI). Default: `hostHeader` without port when it is a name, else none. */
  servername?: string;
  /** Trusted CA for HTTPS. */
  ca?: string | Buffer;
  /** Verify the server certificate. Default true. */
  rejectUnauthorized?: boolean;
  expect?: {
    /**
     * Accepted statuses: a number, a list of numbers and `[lo, hi]` ranges, or a string like `"200-299,304"`.
     * Default 200-399 (HAProxy: 2xx and 3xx are valid).
     */
    status?: number | string | readonly (number | readonly [number, number])[];
    /** Body must contain this string or match this RegExp (HAProxy `string` / `rstring`). */
    body?: string | RegExp;
  };
  /** Most body bytes read for matching. Default 16384. */
  maxBody?: number;
}

type Range = readonly [number, number];

/** The most bytes of response head (status line and headers) read, however they arrive; more is `L7RSP`. */
export const MAX_HEAD = 16384;

export function httpCheck(opts: HttpCheckOptions): Checker {
  const host = checkHost(opts.host, "path");
  const secure = opts.https === true;
  const port = v.int("port", opts.port ?? (secure ? 443 : 80), 1, 65535);
  const method = (opts.method ?? "GET").toUpperCase();
  if (!/^[A-Z]+$/.test(method))
    throw new HealthCheckConfigError("method", opts.method, "must be an HTTP method");
  const path = opts.path ?? "/";
  if (!path.startsWith("/")) throw new HealthCheckConfigError("path", path, "must start with /");
  const ranges = parseStatus(opts.expect?.status ?? [[200, 399]]);
  const body = opts.expect?.body;
  if (body !== undefined && !(typeof body === "string" || body instanceof RegExp)) {
    throw new HealthCheckConfigError("expect.body", body, "is not a known expect: use a string or a RegExp");
  }
  const maxBody = v.int("maxBody", opts.maxBody ?? 16384, 1, 16 * 1024 * 1024);
  const userHeaders = { ...opts.headers };
  let givenHost = opts.hostHeader;
  for (const k of Object.keys(userHeaders)) {
    const lower = k.toLowerCase();
    if (lower === "connection") delete userHeaders[k]; // every check closes its connection
    if (lower !== "host") continue;
    givenHost ??= userHeaders[k];
    delete userHeaders[k];
  }
  const hostHeader = givenHost ?? (port === (secure ? 443 : 80) ? host : `${bracket(host)}:${port}`);
  const sniName = opts.servername ?? hostHeader.replace(/:\d+$/, "");
  const servername = net.isIP(sniName.replace(/^\[|\]$/g, "")) ? undefined : sniName;
  const want = ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(",");
  const sniNote = servername !== undefined ? ` (SNI ${servername})` : "";
  const tlsOpts: TlsOptions | undefined = secure
    ? {
        ...(servername !== undefined ? { servername } : {}),
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
      }
    : undefined;

  for (const [k, v] of Object.entries(userHeaders)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) {
      throw new HealthCheckConfigError("headers", k, "is not a valid header name");
    }
    if (typeof v !== "string" || /[\r\n]/.test(v)) {
      throw new HealthCheckConfigError(`headers.${k}`, v, "must be a string without CR or LF");
    }
  }
  if (/[\s]/.test(path))
    throw new HealthCheckConfigError("path", path, "must not contain spaces or line breaks");
  if (/[\r\n]/.test(hostHeader))
    throw new HealthCheckConfigError("hostHeader", hostHeader, "must not contain CR or LF");
  const request = Buffer.from(
    `${method} ${path} HTTP/1.1\r\nhost: ${hostHeader}\r\n${Object.entries(userHeaders)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("")}connection: close\r\n\r\n`,
    "latin1",
  );
  // without a body expectation only an excerpt of the body is needed
  const keepBody = body === undefined ? 128 : maxBody;

  let lastUp: CheckResult | undefined;
  let lastStatus = 0;
  let lastText = "";
  return attemptChecker((finish) => {
    const reader = new ResponseReader(method, MAX_HEAD, keepBody);
    const conclude = () => {
      const head = reader.head;
      const text = reader.body.toString("utf8");
      if (!head) return finish(down("L7RSP", "no HTTP response"));
      const status = head.status;
      if (!ranges.some(([a, b]) => status >= a && status <= b)) {
        return finish(down("L7STS", `HTTP status ${status} not in ${want}`, text));
      }
      if (body !== undefined) {
        const hit = typeof body === "string" ? text.includes(body) : body.test(text);
        if (!hit) return finish(down("L7RSP", `HTTP body does not match ${String(body)}`, text));
      }
      // a healthy target answers the same every time: its result is reused (frozen), not rebuilt
      if (lastUp === undefined || lastStatus !== status || lastText !== text) {
        lastUp = Object.freeze(up("L7OK", `HTTP status ${status}`, text)) as CheckResult;
        lastStatus = status;
        lastText = text;
      }
      finish(lastUp);
    };
    const onState = (st: ReturnType<ResponseReader["push"]>) => {
      if (st.kind === "done") conclude();
      else if (st.kind === "error") finish(down("L7RSP", `bad HTTP response: ${st.message}`));
    };
    const conn = openConnection(host, port, tlsOpts, {
      ready: () => conn.write(request),
      data: (chunk) => onState(reader.push(chunk)),
      end: () => onState(reader.end()),
      error: (err, phase) => {
        const what = err.code ?? err.message;
        if (phase === "connecting") finish(down("L4CON", `${what} connecting to ${host}:${port}`));
        else if (phase === "handshaking") finish(down("L6RSP", `TLS handshake failed: ${what}${sniNote}`));
        else if (reader.head)
          conclude(); // the response is in; a reset while closing does not matter
        else finish(down("SOCKERR", `${what} before a complete response`));
      },
    });
    return {
      aborted: () =>
        reader.head
          ? down("L7TOUT", "timeout reading the response body", reader.body)
          : conn.phase === "ready"
            ? down("L7TOUT", `timeout waiting for the response to ${method} ${path}`)
            : conn.phase === "handshaking"
              ? down("L6TOUT", "timeout in the TLS handshake")
              : down("L4TOUT", `timeout connecting to ${host}:${port}`),
      release: () => conn.destroy(),
    };
  });
}

function bracket(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

/** Parse expected statuses into inclusive ranges; unknown forms fail at construction. */
export function parseStatus(
  spec: number | string | readonly (number | readonly [number, number])[],
): Range[] {
  const bad = () =>
    new HealthCheckConfigError(
      "expect.status",
      spec,
      'is not a known expect: use 200, [200, 204], [[200, 299]] or "200-299,304" with codes 100..599',
    );
  const check = (n: number) => {
    if (!Number.isInteger(n) || n < 100 || n > 599) throw bad();
    return n;
  };
  const out: Range[] = [];
  if (typeof spec === "number") out.push([check(spec), spec]);
  else if (typeof spec === "string") {
    for (const part of spec.split(",")) {
      const m = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
      if (!m) throw bad();
      const a = check(Number(m[1]));
      const b = check(Number(m[2] ?? m[1]));
      if (b < a) throw bad();
      out.push([a, b]);
    }
  } else if (Array.isArray(spec)) {
    for (const item of spec as readonly (number | readonly [number, number])[]) {
      if (typeof item === "number") out.push([check(item), item]);
      else if (Array.isArray(item) && item.length === 2) {
        const a = check(item[0] as number);
        const b = check(item[1] as number);
        if (b < a) throw bad();
        out.push([a, b]);
      } else throw bad();
    }
  } else throw bad();
  if (out.length === 0) throw bad();
  return out;
}
