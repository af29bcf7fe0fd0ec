/**
 * The request head parser (RFC 9112 §3, §5, §6, §7.2; RFC 9110 §7.2): strict, incremental, one pass over the
 * bytes once the head is complete. Every violation is an error with a status and a stable reason code; nothing
 * is repaired and nothing ambiguous gets through.
 */
import { HEX, latin1, SP, TOKEN } from "./chars.js";
import {
  CHUNKED,
  CONN_CLOSE,
  CONN_INVALID,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  classifyTransferEncoding,
  connectionOptions,
  countOf,
  EMPTY,
  F_CONNECTION,
  F_CONTENT_LENGTH,
  F_EXPECT,
  F_HOST,
  F_TRANSFER_ENCODING,
  F_UPGRADE,
  fieldScratch,
  fieldsCopy,
  firstOf,
  Head,
  lengthFraming,
  NONE,
  parseFields,
  parseLength,
  STRIDE,
  TE_CHUNKED,
  TE_UNSUPPORTED,
  VALUE,
  VALUE_END,
} from "./head.js";
import { sameAuthority, validHost } from "./host.js";
import {
  INCOMPLETE,
  newHeadScan,
  resetScan,
  SCAN_INCOMPLETE,
  scanError,
  scanHead,
  scanTable,
} from "./scan.js";
import type { Framing, HeadLimits, HeadMiss, HeadParse, HeadScan, RequestHead, TargetForm } from "./types.js";

export class Request extends Head implements RequestHead {
  constructor(
    raw: Buffer,
    length: number,
    lineStart: number,
    lineEnd: number,
    version: 10 | 11,
    fields: number[],
    fieldCount: number,
    framing: Framing,
    keepAlive: boolean,
    connectionTokens: readonly string[],
    connectionBits: number,
    upgrade: string | undefined,
    readonly method: string,
    /** Where the target is in `raw`. */
    private readonly targetStart: number,
    private readonly targetEnd: number,
    readonly targetForm: TargetForm,
    /** Offset in `target` where the path starts and where it ends (`?` or the end). */
    private readonly pathStart: number,
    private readonly pathEnd: number,
    /** Where the host is in `raw` (the Host value, or the target's authority); -1 when there is none. */
    private readonly hostStart: number,
    private readonly hostEnd: number,
    readonly expectContinue: boolean,
  ) {
    super(
      raw,
      length,
      lineStart,
      lineEnd,
      version,
      fields,
      fieldCount,
      framing,
      keepAlive,
      connectionTokens,
      connectionBits,
      upgrade,
    );
  }

  private cachedTarget: string | undefined = undefined;
  private cachedHost: string | undefined = undefined;

  get target(): string {
    if (this.cachedTarget === undefined)
      this.cachedTarget = latin1(this.raw, this.targetStart, this.targetEnd);
    return this.cachedTarget;
  }

  get host(): string | undefined {
    if (this.hostStart < 0) return undefined;
    if (this.cachedHost === undefined) this.cachedHost = latin1(this.raw, this.hostStart, this.hostEnd);
    return this.cachedHost;
  }

  get path(): string {
    if (this.pathStart === this.pathEnd) return this.targetForm === "absolute" ? "/" : "";
    return this.pathStart === 0 && this.pathEnd === this.target.length
      ? this.target
      : this.target.slice(this.pathStart, this.pathEnd);
  }

  get query(): string | undefined {
    return this.pathEnd < this.target.length ? this.target.slice(this.pathEnd + 1) : undefined;
  }
}

const fail = (status: number, reason: string): HeadMiss => ({ kind: "error", status, reason });

/** Interned well-known methods, so the common case makes no string. */
function methodOf(buf: Buffer, s: number, e: number): string {
  const c0 = buf[s];
  switch (e - s) {
    case 3:
      if (c0 === 0x47 && buf[s + 1] === 0x45 && buf[s + 2] === 0x54) return "GET";
      if (c0 === 0x50 && buf[s + 1] === 0x55 && buf[s + 2] === 0x54) return "PUT";
      break;
    case 4:
      if (buf[s + 1] === 0x4f && buf[s + 2] === 0x53 && buf[s + 3] === 0x54 && c0 === 0x50) return "POST";
      if (buf[s + 1] === 0x45 && buf[s + 2] === 0x41 && buf[s + 3] === 0x44 && c0 === 0x48) return "HEAD";
      break;
  }
  return latin1(buf, s, e);
}

/**
 * Parses a request head from the start of `buf`. Returns `incomplete` until the head's CRLFCRLF arrived (call
 * again with more bytes and the same `scan`), an error (400 / 414 / 431 / 501 / 505), or the head.
 */
export function parseRequestHead(buf: Buffer, limits: HeadLimits, scan?: HeadScan): HeadParse<RequestHead> {
  const r = readRequestHead(buf, limits, scan);
  return r instanceof Request ? { kind: "head", head: r, length: r.length } : (r as HeadMiss);
}

/**
 * @internal `parseRequestHead` without the result object, for the proxy's per-request path: the head itself
 * (`length` is where it ends; test with `instanceof Request`) or why there is none.
 */
export function readRequestHead(buf: Buffer, limits: HeadLimits, scan?: HeadScan): Request | HeadMiss {
  const s = scan ?? newHeadScan();
  const end = scanHead(buf, limits, s, true);
  if (end === SCAN_INCOMPLETE) return INCOMPLETE;
  const start = s.start;
  const firstLf = s.firstLf;
  resetScan(s);
  if (end < 0) return scanError(end, true);
  const lineEnd = firstLf - 1;

  // request-line = method SP request-target SP HTTP-version
  let p = start;
  while (TOKEN[buf[p]!] === 1) p++;
  if (p === start || buf[p] !== SP) return fail(400, "bad-method");
  const method = methodOf(buf, start, p);
  const t0 = ++p;
  let query = -1;
  // target bytes: visible ASCII except `#` (arithmetic beats a table lookup here)
  for (let c = buf[p]!; c > 0x20 && c < 0x7f && c !== 0x23; c = buf[++p]!) {
    if (c === 0x25) {
      if (HEX[buf[p + 1]!] === 0 || HEX[buf[p + 2]!] === 0) return fail(400, "bad-target");
    } else if (c === 0x3f && query < 0) query = p;
  }
  const t1 = p;
  if (t1 === t0) return fail(400, "bad-target");
  if (buf[p] !== SP) return fail(400, p === lineEnd ? "missing-version" : "bad-target");
  p++;
  if (lineEnd - p !== 8) return fail(400, "bad-version");
  if (
    buf[p] !== 0x48 ||
    buf[p + 1] !== 0x54 ||
    buf[p + 2] !== 0x54 ||
    buf[p + 3] !== 0x50 ||
    buf[p + 4] !== 0x2f
  ) {
    return fail(400, "bad-version");
  }
  const major = buf[p + 5]! - 0x30;
  const minor = buf[p + 7]! - 0x30;
  if (major < 0 || major > 9 || buf[p + 6] !== 0x2e || minor < 0 || minor > 9)
    return fail(400, "bad-version");
  if (major !== 1 || minor > 1) return fail(505, "unsupported-version");
  const version: 10 | 11 = minor === 0 ? 10 : 11;

  // request-target forms (RFC 9112 §3.2)
  let form: TargetForm;
  let pathStart = 0;
  let pathEnd = (query < 0 ? t1 : query) - t0;
  let authStart = -1;
  /** The port an authority may leave out: 80 / 443 for absolute-form, any for CONNECT (as HAProxy). */
  let defaultPort = "";
  let authEnd = -1;
  const c0 = buf[t0];
  if (method === "CONNECT") {
    if (!validHost(buf, t0, t1, true)) return fail(400, "bad-target");
    form = "authority";
    authStart = t0;
    authEnd = t1;
    pathEnd = 0;
  } else if (c0 === 0x2f) {
    form = "origin";
  } else if (c0 === 0x2a && t1 === t0 + 1) {
    if (method !== "OPTIONS") return fail(400, "bad-target");
    form = "asterisk";
    pathEnd = 0;
  } else {
    // absolute-form: only http and https, an authority without userinfo
    let q = t0;
    if ((buf[q]! | 0x20) === 0x68 && (buf[q + 1]! | 0x20) === 0x74 && (buf[q + 2]! | 0x20) === 0x74) {
      q += 3;
      if ((buf[q]! | 0x20) === 0x70) q++;
      else return fail(400, "bad-target");
      defaultPort = "80";
      if ((buf[q]! | 0x20) === 0x73) {
        q++;
        defaultPort = "443";
      }
    } else return fail(400, "bad-target");
    if (buf[q] !== 0x3a || buf[q + 1] !== 0x2f || buf[q + 2] !== 0x2f) return fail(400, "bad-target");
    authStart = q + 3;
    authEnd = authStart;
    const stop = query < 0 ? t1 : query;
    while (authEnd < stop && buf[authEnd] !== 0x2f) authEnd++;
    if (!validHost(buf, authStart, authEnd, false)) return fail(400, "bad-target");
    form = "absolute";
    pathStart = authEnd - t0;
  }

  // header section
  const table = scanTable(s);
  const fields = table ?? fieldScratch;
  const n = parseFields(buf, firstLf + 1, end - 2, fields);
  if (typeof n === "string") return fail(400, n);

  // Host: exactly one on HTTP/1.1, valid, and the same as an absolute-form or authority-form target's authority
  const hostAt = firstOf[F_HOST]!;
  let hostStart = -1;
  let hostEnd = -1;
  if (hostAt < 0) {
    if (version === 11) return fail(400, "missing-host");
    hostStart = authStart;
    hostEnd = authEnd;
  } else {
    if (countOf[F_HOST]! > 1) return fail(400, "duplicate-host");
    const hs = fields[hostAt * STRIDE + VALUE]!;
    const he = fields[hostAt * STRIDE + VALUE_END]!;
    if (hs !== he && !validHost(buf, hs, he, false)) return fail(400, "bad-host");
    if (
      authStart >= 0 &&
      !sameAuthority(buf, hs, he, authStart, authEnd, form === "authority" ? "*" : defaultPort)
    ) {
      return fail(400, "host-mismatch");
    }
    hostStart = hs;
    hostEnd = he;
  }

  // framing (RFC 9112 §6.1, §6.3): TE only as a single final `chunked` on 1.1, never with Content-Length
  let framing: Framing = NONE;
  const clAt = firstOf[F_CONTENT_LENGTH]!;
  const teAt = firstOf[F_TRANSFER_ENCODING]!;
  if (teAt >= 0) {
    if (version === 10) return fail(400, "transfer-encoding-http10");
    if (clAt >= 0) return fail(400, "content-length-with-transfer-encoding");
    const te = classifyTransferEncoding(buf, fields, n);
    if (te === TE_UNSUPPORTED) return fail(501, "unsupported-transfer-coding");
    if (te !== TE_CHUNKED) return fail(400, "bad-transfer-encoding");
    framing = CHUNKED;
  } else if (clAt >= 0) {
    if (countOf[F_CONTENT_LENGTH]! > 1) return fail(400, "duplicate-content-length");
    const len = parseLength(buf, fields[clAt * STRIDE + VALUE]!, fields[clAt * STRIDE + VALUE_END]!);
    if (len === -2) return fail(400, "content-length-overflow");
    if (len < 0) return fail(400, "bad-content-length");
    if (len > 0) framing = lengthFraming(len);
  }

  // Connection, Upgrade, Expect
  let tokens: readonly string[] = EMPTY;
  let bits = 0;
  if (firstOf[F_CONNECTION]! >= 0) {
    [bits, tokens] = connectionOptions(buf, fields, n);
    if (bits & CONN_INVALID) return fail(400, "bad-connection");
  }
  const keepAlive =
    version === 11 ? (bits & CONN_CLOSE) === 0 : (bits & (CONN_KEEP_ALIVE | CONN_CLOSE)) === CONN_KEEP_ALIVE;
  let upgrade: string | undefined;
  if (bits & CONN_UPGRADE && version === 11) {
    const u = firstOf[F_UPGRADE]!;
    if (u >= 0)
      upgrade = latin1(buf, fields[u * STRIDE + VALUE]!, fields[u * STRIDE + VALUE_END]!) || undefined;
  }
  let expectContinue = false;
  if (version === 11) {
    const x = firstOf[F_EXPECT]!;
    if (x >= 0) {
      const xs = fields[x * STRIDE + VALUE]!;
      expectContinue =
        fields[x * STRIDE + VALUE_END]! - xs === 12 &&
        latin1(buf, xs, xs + 12).toLowerCase() === "100-continue";
    }
  }

  const head = new Request(
    buf,
    end,
    start,
    lineEnd,
    version,
    table ?? fieldsCopy(n),
    n,
    framing,
    keepAlive,
    tokens,
    bits,
    upgrade,
    method,
    t0,
    t1,
    form,
    pathStart,
    pathEnd,
    hostStart,
    hostEnd,
    expectContinue,
  );
  return head;
}
