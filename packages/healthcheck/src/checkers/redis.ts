/**
 * HAProxy `option redis-check`: send `PING` (as a RESP array) and expect `+PONG\r\n`; any other reply is down
 * (L7STS) with the reply's first line — `-LOADING …` while a dataset loads, `-NOAUTH …` when a password is
 * required. An error line is judged as soon as it is complete; anything else waits for `+PONG` (HAProxy
 * searches the whole reply) until the connection closes or the check times out.
 */
import { v } from "../errors.js";
import { type Checker, down, up } from "../result.js";
import type { TlsOptions } from "./connection.js";
import { type Dialog, type DialogStep, dialogCheck } from "./dialog.js";
import { checkHost } from "./host.js";

export interface RedisCheckOptions {
  host: string;
  port: number;
  /** Redis over TLS (HAProxy `check-ssl`). */
  tls?: boolean | TlsOptions;
}

const PING = Buffer.from("*1\r\n$4\r\nPING\r\n", "latin1");

export function redisCheck(opts: RedisCheckOptions): Checker {
  const host = checkHost(opts.host);
  const port = v.int("port", opts.port, 1, 65535);
  const tls = opts.tls === true ? {} : opts.tls || undefined;
  return dialogCheck({ host, port, tls, what: "Redis" }, redisDialog);
}

/** PING, then judge the reply. Pure. */
export function redisDialog(): Dialog {
  return {
    hello: PING,
    next(buf, closed): DialogStep {
      if (buf.indexOf("+PONG\r\n", 0, "latin1") >= 0) return { result: up("L7OK", "Redis server is ok") };
      const eol = buf.indexOf("\r\n", 0, "latin1");
      if ((eol >= 0 && buf[0] === 0x2d) || closed) {
        const line = buf.subarray(0, eol < 0 ? buf.length : eol).toString("latin1");
        return { result: down("L7STS", line ? `Redis: ${line}` : "Redis: no reply") };
      }
      return { wait: true };
    },
  };
}
