/**
 * Head rewriting for forwarding: the received head minus hop-by-hop fields (RFC 9110 §7.6.1: Connection,
 * Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade unless tunnelling, Trailer, and every field named
 * in Connection), framing re-stated canonically, `Connection` set for the next hop, header rules applied, and
 * X-Forwarded-* / Forwarded (RFC 7239) added. The start line and every kept field line are copied verbatim from
 * the received bytes (consecutive lines in one copy); the result is one Buffer sized exactly.
 */
import { Buffer } from "node:buffer";
import { ProxyConfigError } from "../errors.js";
import { FIELD_VALUE, TOKEN } from "./chars.js";
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  CONN_OTHER,
  EOL,
  equalsName,
  F_CONNECTION,
  F_CONTENT_LENGTH,
  F_HOST,
  F_KEEP_ALIVE,
  F_PROXY_CONNECTION,
  F_TE,
  F_TRAILER,
  F_TRANSFER_ENCODING,
  F_UPGRADE,
  type Head,
  NAME,
  NAME_END,
  STRIDE,
} from "./head.js";
import type { ForwardContext, HeaderRulesOptions, RequestHead, ResponseHead } from "./types.js";

/** Compiled header rules (from `headerRules()`): names to drop, lines to add, forwarding fields to write. */
export interface HeaderRules {
  /** Lower-case names whose fields are dropped (del-header, set-header, the X-Forwarded-* being set). */
  readonly drop: readonly string[];
  /** The set-header and add-header lines, pre-encoded. */
  readonly lines: string;
  readonly forwardedFor:
    | { readonly header: string; readonly except?: (address: string) => boolean }
    | undefined;
  readonly forwardedProto: boolean;
  readonly forwardedHost: boolean;
  readonly forwarded: { readonly by?: string } | undefined;
}

const NO_RULES: HeaderRules = Object.freeze({
  drop: [],
  lines: "",
  forwardedFor: undefined,
  forwardedProto: false,
  forwardedHost: false,
  forwarded: undefined,
});

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN[c] !== 1) return false;
  }
  return true;
}

function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] !== 1) return false;
  }
  return s.length === 0 || (s.charCodeAt(0) > 0x20 && s.charCodeAt(s.length - 1) > 0x20);
}

function checkName(option: string, name: unknown): string {
  if (typeof name !== "string" || !isToken(name)) {
    throw new ProxyConfigError(option, name, "is not a valid header name (RFC 9110 token characters only)");
  }
  return name;
}

/**
 * Validates and compiles header rules once (HAProxy `http-request/http-response del-header/set-header/
 * add-header`, `option forwardfor`, X-Forwarded-Proto/-Host, RFC 7239 `Forwarded`).
 */
export function headerRules(options: HeaderRulesOptions = {}): HeaderRules {
  const drop: string[] = [];
  let lines = "";
  for (const name of options.del ?? []) drop.push(checkName("del", name).toLowerCase());
  const pairs = (option: "set" | "add") => {
    for (const pair of options[option] ?? []) {
      const [name, value] = pair;
      checkName(option, name);
      if (typeof value !== "string" || !isFieldValue(value)) {
        throw new ProxyConfigError(
          option,
          value,
          "is not a valid header value (no CR, LF, NUL or other control characters; no leading/trailing space)",
        );
      }
      if (option === "set") drop.push(name.toLowerCase());
      lines += `${name}: ${value}\r\n`;
    }
  };
  pairs("set");
  pairs("add");
  let forwardedFor: HeaderRules["forwardedFor"];
  const ff = options.forwardedFor;
  if (ff) {
    const header =
      ff === true || ff.header === undefined
        ? "X-Forwarded-For"
        : checkName("forwardedFor.header", ff.header);
    const except = ff === true ? undefined : ff.except;
    if (except !== undefined && typeof except !== "function") {
      throw new ProxyConfigError("forwardedFor.except", except, "must be a function (address) => boolean");
    }
    forwardedFor = except ? { header, except } : { header };
  }
  if (options.forwardedProto) drop.push("x-forwarded-proto");
  if (options.forwardedHost) drop.push("x-forwarded-host");
  let forwarded: HeaderRules["forwarded"];
  const fw = options.forwarded;
  if (fw) {
    const by = fw === true ? undefined : fw.by;
    if (
      by !== undefined &&
      (typeof by !== "string" || !isFieldValue(by) || by.includes('"') || by.includes("\\"))
    ) {
      throw new ProxyConfigError(
        "forwarded.by",
        by,
        "must be a node name or address without quotes or controls",
      );
    }
    forwarded = by === undefined ? {} : { by };
  }
  return {
    drop,
    lines,
    forwardedFor,
    forwardedProto: options.forwardedProto === true,
    forwardedHost: options.forwardedHost === true,
    forwarded,
  };
}

/** `::ffff:1.2.3.4` (a dual-stack socket's IPv4 client) as `1.2.3.4`. */
function unmap(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** An RFC 7239 value: a token as is, anything else quoted; a bare IPv6 `address` as `"[…]"`. */
function forwardedValue(v: string, address: boolean): string {
  if (address && v.includes(":")) return `"[${v}]"`;
  return isToken(v) ? v : `"${v}"`;
}

const CONNECTION_LINE = {
  "keep-alive": "Connection: keep-alive\r\n",
  close: "Connection: close\r\n",
  upgrade: "Connection: upgrade\r\n",
} as const;

/** Scratch for the [start, end) runs of verbatim bytes; grows as needed, reused across calls. */
let runs = new Int32Array(64);

/** Fields of these kinds never reach the next hop as received (RFC 9110 §7.6.1; Upgrade unless tunnelling). */
function hopByHop(kind: number): boolean {
  switch (kind) {
    case F_CONNECTION:
    case F_KEEP_ALIVE:
    case F_PROXY_CONNECTION:
    case F_TE:
    case F_TRANSFER_ENCODING:
    case F_TRAILER:
    case F_UPGRADE:
      return true;
  }
  return false;
}

/** Whether field `i` of `head` is dropped when forwarding. */
function dropped(
  head: Head,
  i: number,
  kind: number,
  keepUpgrade: boolean,
  rules: HeaderRules,
  noLength: boolean,
): boolean {
  if (kind === F_CONTENT_LENGTH && noLength) return true;
  if (hopByHop(kind)) return kind !== F_UPGRADE || !keepUpgrade;
  const f = head.fields;
  const o = i * STRIDE;
  const s = f[o + NAME]!;
  const e = f[o + NAME_END]!;
  const drop = rules.drop;
  for (let d = 0; d < drop.length; d++) if (equalsName(head.raw, s, e, drop[d]!)) return true;
  if (head.connectionBits & CONN_OTHER && kind !== F_CONTENT_LENGTH && kind !== F_HOST) {
    const tokens = head.connectionTokens;
    for (let t = 0; t < tokens.length; t++) if (equalsName(head.raw, s, e, tokens[t]!)) return true;
  }
  return false;
}

/**
 * Whether the received head can go on as it is: HTTP/1.1, nothing to drop or add, no hop-by-hop field but a
 * Connection field that already says `ctx.connection` (or, with `implicit`, no Connection field at all where
 * keep-alive is wanted: HTTP/1.1's default, for requests, which always go to the server as HTTP/1.1).
 */
function asReceived(
  head: Head,
  ctx: ForwardContext,
  rules: HeaderRules,
  extra: string,
  noLength: boolean,
  implicit: boolean,
): boolean {
  if (noLength || extra !== "" || head.version !== 11 || head.framing.kind === "chunked") return false;
  if (rules.drop.length !== 0 || rules.lines !== "") return false;
  const want =
    ctx.connection === "keep-alive" ? CONN_KEEP_ALIVE : ctx.connection === "close" ? CONN_CLOSE : 0;
  if (want === 0) return false;
  const f = head.fields;
  let connections = 0;
  for (let i = 0; i < head.fieldCount; i++) {
    const kind = f[i * STRIDE + 5]!;
    if (kind === F_CONNECTION) connections++;
    else if (hopByHop(kind)) return false;
  }
  if (connections === 0) return implicit && want === CONN_KEEP_ALIVE;
  return connections === 1 && head.connectionBits === want;
}

/**
 * The received head's own bytes when nothing would change (`asReceived`): a view, no copy. Otherwise `rewrite`.
 */
function serialise(
  head: Head,
  ctx: ForwardContext,
  rules: HeaderRules,
  extra: string,
  noLength: boolean,
  implicit: boolean,
): Buffer {
  return asReceived(head, ctx, rules, extra, noLength, implicit)
    ? receivedBytes(head)
    : rewrite(head, ctx, rules, extra, noLength);
}

/** The head as received (a read that held the head alone is the head: no view to make). */
function receivedBytes(head: Head): Buffer {
  const raw = head.raw;
  return head.lineStart === 0 && head.length === raw.length ? raw : raw.subarray(head.lineStart, head.length);
}

/**
 * Copies the start line and kept fields, then the framing and Connection lines, the rules' lines, `extra` and
 * the final CRLF, into one exactly-sized Buffer.
 */
function rewrite(
  head: Head,
  ctx: ForwardContext,
  rules: HeaderRules,
  extra: string,
  noLength: boolean,
): Buffer {
  const raw = head.raw;
  const f = head.fields;
  const keepUpgrade = ctx.connection === "upgrade";
  if (runs.length < 2 * head.fieldCount + 2) runs = new Int32Array(2 * head.fieldCount + 64);
  let nRuns = 0;
  let runStart = head.lineStart;
  let runEnd = head.lineEnd + 2;
  let total = 0;
  for (let i = 0; i < head.fieldCount; i++) {
    const o = i * STRIDE;
    const lineStart = f[o + NAME]!;
    if (dropped(head, i, f[o + 5]!, keepUpgrade, rules, noLength)) {
      if (runEnd > runStart) {
        runs[nRuns++] = runStart;
        runs[nRuns++] = runEnd;
        total += runEnd - runStart;
      }
      runStart = runEnd = f[o + EOL]! + 2;
    } else {
      if (lineStart !== runEnd) {
        runs[nRuns++] = runStart;
        runs[nRuns++] = runEnd;
        total += runEnd - runStart;
        runStart = lineStart;
      }
      runEnd = f[o + EOL]! + 2;
    }
  }
  if (runEnd > runStart) {
    runs[nRuns++] = runStart;
    runs[nRuns++] = runEnd;
    total += runEnd - runStart;
  }
  const framing = head.framing.kind === "chunked" ? "Transfer-Encoding: chunked\r\n" : "";
  const tail = `${framing}${CONNECTION_LINE[ctx.connection]}${rules.lines}${extra}\r\n`;
  const out = Buffer.allocUnsafe(total + tail.length);
  let w = 0;
  for (let r = 0; r < nRuns; r += 2) w += raw.copy(out, w, runs[r]!, runs[r + 1]!);
  out.write(tail, w, "latin1");
  return out;
}

/**
 * The request head to send to a server: hop-by-hop fields removed, `Transfer-Encoding: chunked` restated for a
 * chunked body, `Connection` from `ctx`, then the rules' set/add lines and forwarding fields. An HTTP/1.1 request
 * with none of these to change goes as received (keep-alive is HTTP/1.1's default: no `Connection` is added).
 */
export function serialiseRequest(
  head: RequestHead,
  ctx: ForwardContext,
  rules: HeaderRules = NO_RULES,
): Buffer {
  const h = head as unknown as Head & RequestHead;
  let extra = "";
  const client = ctx.clientAddress === undefined ? undefined : unmap(ctx.clientAddress);
  const ff = rules.forwardedFor;
  if (ff && client !== undefined && !ff.except?.(client)) extra += `${ff.header}: ${client}\r\n`;
  if (rules.forwardedProto && ctx.proto) extra += `X-Forwarded-Proto: ${ctx.proto}\r\n`;
  if (rules.forwardedHost && h.host) extra += `X-Forwarded-Host: ${h.host}\r\n`;
  if (rules.forwarded) {
    let v = client === undefined ? "" : `for=${forwardedValue(client, true)}`;
    if (rules.forwarded.by !== undefined)
      v += `${v ? ";" : ""}by=${forwardedValue(rules.forwarded.by, false)}`;
    if (ctx.proto) v += `${v ? ";" : ""}proto=${ctx.proto}`;
    if (h.host) v += `${v ? ";" : ""}host=${forwardedValue(h.host, false)}`;
    if (v) extra += `Forwarded: ${v}\r\n`;
  }
  return serialise(h, ctx, rules, extra, false, true);
}

/**
 * The response head to send to the client: hop-by-hop fields removed, `Transfer-Encoding: chunked` restated
 * for a chunked body, `Connection` from `ctx`, then the rules' set/add lines (forwarding options do not apply).
 * A 1xx or 204 never carries Content-Length to the client (RFC 9110 §8.6: a server must not send one there, and a
 * client or cache behind us could read it as a body length). One that already says what `ctx` says, with nothing
 * else to change, goes as received.
 */
export function serialiseResponse(
  head: ResponseHead,
  ctx: ForwardContext,
  rules: HeaderRules = NO_RULES,
): Buffer {
  return serialise(head as unknown as Head, ctx, rules, "", noResponseLength(head.status), false);
}

/** @internal Whether `serialiseResponse` would answer the received head's own bytes (without making the view). */
export function responseAsReceived(head: ResponseHead, ctx: ForwardContext, rules: HeaderRules): boolean {
  return asReceived(head as unknown as Head, ctx, rules, "", noResponseLength(head.status), false);
}

/**
 * @internal What `serialiseResponse(head, ctx, rules)` answers, given what `responseAsReceived` with the same
 * arguments answered (`asIs`), so that the proxy, which asks that first, does not have the fields walked twice.
 */
export function responseHeadBytes(
  head: ResponseHead,
  ctx: ForwardContext,
  rules: HeaderRules,
  asIs: boolean,
): Buffer {
  const h = head as unknown as Head;
  return asIs ? receivedBytes(h) : rewrite(h, ctx, rules, "", noResponseLength(head.status));
}

/** A 1xx or 204 response carries no Content-Length. */
const noResponseLength = (status: number) => status === 204 || (status >= 100 && status < 200);
