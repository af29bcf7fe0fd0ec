/**
 * HTTP(S) check, HAProxy `option httpchk` + `http-check send` + `http-check expect status|string|rstring`:
 * method, path, headers, Host; expected status list/ranges; optional body match; HTTPS with SNI.
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { HealthCheckConfigError, requireInt } from "../errors.js";
import { type Checker, type CheckResult, down, up } from "../result.js";
import { checkHost } from "./tcp.js";

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

export function httpCheck(opts: HttpCheckOptions): Checker {
  const host = checkHost(opts.host);
  const secure = opts.https === true;
  const port = requireInt("port", opts.port ?? (secure ? 443 : 80), 1, 65535);
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
  const maxBody = requireInt("maxBody", opts.maxBody ?? 16384, 1, 16 * 1024 * 1024);
  const userHeaders = { ...opts.headers };
  let givenHost = opts.hostHeader;
  for (const k of Object.keys(userHeaders)) {
    if (k.toLowerCase() !== "host") continue;
    givenHost ??= userHeaders[k];
    delete userHeaders[k];
  }
  const hostHeader = givenHost ?? (port === (secure ? 443 : 80) ? host : `${bracket(host)}:${port}`);
  const sniName = opts.servername ?? hostHeader.replace(/:\d+$/, "");
  const servername = net.isIP(sniName.replace(/^\[|\]$/g, "")) ? undefined : sniName;
  const want = ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(",");
  const headers = { ...userHeaders, host: hostHeader, connection: "close" };
  const sniNote = servername !== undefined ? ` (SNI ${servername})` : "";

  return ({ signal }) =>
    new Promise<CheckResult>((resolve) => {
      let done = false;
      let responded = false;
      let connected = false; // TCP (and TLS) up
      let tcpUp = false;
      const finish = (r: CheckResult) => {
        if (done) return;
        done = true;
        signal.removeEventListener("abort", onAbort);
        req.destroy();
        resolve(r);
      };
      const onAbort = () =>
        finish(
          responded
            ? down("L7TOUT", "timeout reading the response body")
            : connected
              ? down("L7TOUT", `timeout waiting for the response to ${method} ${path}`)
              : tcpUp
                ? down("L6TOUT", "timeout in the TLS handshake")
                : down("L4TOUT", `timeout connecting to ${host}:${port}`),
        );
      const common = { host, port, method, path, headers, agent: false } as const;
      const req = secure
        ? https.request({
            ...common,
            ...(servername !== undefined ? { servername } : {}),
            ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
            rejectUnauthorized: opts.rejectUnauthorized ?? true,
          })
        : http.request(common);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      req.on("socket", (s) => {
        s.once("connect", () => {
          tcpUp = true;
          if (!secure) connected = true;
        });
        if (secure) {
          s.once("secureConnect", () => {
            connected = true;
          });
        }
      });
      req.on("error", (err: NodeJS.ErrnoException) => {
        const what = err.code ?? err.message;
        if (!tcpUp) finish(down("L4CON", `${what} connecting to ${host}:${port}`));
        else if (!connected) finish(down("L6RSP", `TLS handshake failed: ${what}${sniNote}`));
        else finish(down("L7RSP", `${what} before a complete response`));
      });
      req.on("response", (res) => {
        responded = true;
        const status = res.statusCode ?? 0;
        const okStatus = ranges.some(([a, b]) => status >= a && status <= b);
        let data = Buffer.alloc(0);
        const conclude = () => {
          const text = data.toString("utf8");
          if (!okStatus) return finish(down("L7STS", `HTTP status ${status} not in ${want}`, text));
          if (body !== undefined) {
            const hit = typeof body === "string" ? text.includes(body) : body.test(text);
            if (!hit) return finish(down("L7RSP", `HTTP body does not match ${String(body)}`, text));
          }
          finish(up("L7OK", `HTTP status ${status}`, text));
        };
        res.on("data", (chunk: Buffer) => {
          data = Buffer.concat([data, chunk]);
          if (data.length >= maxBody || (body === undefined && data.length >= 128)) {
            data = data.subarray(0, maxBody);
            conclude();
          }
        });
        res.on("end", conclude);
        res.on("error", () => conclude());
      });
      req.end();
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
