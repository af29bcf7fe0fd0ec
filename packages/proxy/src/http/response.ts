/**
 * The response head parser (RFC 9112 §4, §6.3): the same strict field rules as requests, framing decided from
 * the request it answers (HEAD, CONNECT, Upgrade). Every violation is a 502 with a stable reason code.
 */
import { latin1, REASON, SP } from "./chars.js";
import {
  CHUNKED,
  CONN_CLOSE,
  CONN_INVALID,
  CONN_KEEP_ALIVE,
  classifyTransferEncoding,
  connectionOptions,
  countOf,
  EMPTY,
  F_CONNECTION,
  F_CONTENT_LENGTH,
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
  TUNNEL,
  UNTIL_CLOSE,
  VALUE,
  VALUE_END,
} from "./head.js";
import {
  INCOMPLETE,
  newHeadScan,
  resetScan,
  SCAN_INCOMPLETE,
  scanError,
  scanHead,
  scanTable,
} from "./scan.js";
import type {
  Framing,
  HeadLimits,
  HeadMiss,
  HeadParse,
  HeadScan,
  ResponseContext,
  ResponseHead,
} from "./types.js";

export class Response extends Head implements ResponseHead {
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
    readonly status: number,
    private readonly reasonStart: number,
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

  get reason(): string {
    return this.reasonStart < this.lineEnd ? latin1(this.raw, this.reasonStart, this.lineEnd) : "";
  }

  get informational(): boolean {
    return this.status < 200 && this.status !== 101;
  }
}

const fail = (reason: string): HeadMiss => ({ kind: "error", status: 502, reason });

/**
 * Parses a response head from the start of `buf`, answering `request` (its method and whether it asked for an
 * upgrade). Returns `incomplete` until the head is complete, a 502 error, or the head.
 */
export function parseResponseHead(
  buf: Buffer,
  limits: HeadLimits,
  request: ResponseContext,
  scan?: HeadScan,
): HeadParse<ResponseHead> {
  const r = readResponseHead(buf, limits, request, scan);
  return r instanceof Response ? { kind: "head", head: r, length: r.length } : (r as HeadMiss);
}

/**
 * @internal `parseResponseHead` without the result object, for the proxy's per-request path: the head itself
 * (`length` is where it ends; test with `instanceof Response`) or why there is none.
 */
export function readResponseHead(
  buf: Buffer,
  limits: HeadLimits,
  request: ResponseContext,
  scan?: HeadScan,
): Response | HeadMiss {
  const s = scan ?? newHeadScan();
  const end = scanHead(buf, limits, s, false);
  if (end === SCAN_INCOMPLETE) return INCOMPLETE;
  const firstLf = s.firstLf;
  resetScan(s);
  if (end < 0) return scanError(end, false);
  const lineEnd = firstLf - 1;

  // status-line = HTTP-version SP status-code SP [ reason-phrase ]   (a missing SP after the code is accepted)
  if (lineEnd < 12) return fail("bad-status-line");
  if (buf[0] !== 0x48 || buf[1] !== 0x54 || buf[2] !== 0x54 || buf[3] !== 0x50 || buf[4] !== 0x2f) {
    return fail("bad-version");
  }
  const major = buf[5]! - 0x30;
  const minor = buf[7]! - 0x30;
  if (major < 0 || major > 9 || buf[6] !== 0x2e || minor < 0 || minor > 9 || buf[8] !== SP) {
    return fail("bad-version");
  }
  if (major !== 1 || minor > 1) return fail("unsupported-version");
  const version: 10 | 11 = minor === 0 ? 10 : 11;
  const d0 = buf[9]! - 0x30;
  const d1 = buf[10]! - 0x30;
  const d2 = buf[11]! - 0x30;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return fail("bad-status");
  const status = d0 * 100 + d1 * 10 + d2;
  let reasonStart = lineEnd;
  if (lineEnd > 12) {
    if (buf[12] !== SP) return fail("bad-status");
    reasonStart = 13;
    for (let p = 13; p < lineEnd; p++) if (REASON[buf[p]!] !== 1) return fail("bad-reason");
  }

  const table = scanTable(s);
  const fields = table ?? fieldScratch;
  const n = parseFields(buf, firstLf + 1, end - 2, fields);
  if (typeof n === "string") return fail(n);

  // Content-Length and Transfer-Encoding are validated whatever the status, then framing per RFC 9112 §6.3
  const clAt = firstOf[F_CONTENT_LENGTH]!;
  const teAt = firstOf[F_TRANSFER_ENCODING]!;
  let length = -1;
  if (clAt >= 0) {
    if (countOf[F_CONTENT_LENGTH]! > 1) return fail("duplicate-content-length");
    length = parseLength(buf, fields[clAt * STRIDE + VALUE]!, fields[clAt * STRIDE + VALUE_END]!);
    if (length === -2) return fail("content-length-overflow");
    if (length < 0) return fail("bad-content-length");
  }
  if (teAt >= 0) {
    if (version === 10) return fail("transfer-encoding-http10");
    if (clAt >= 0) return fail("content-length-with-transfer-encoding");
    if (status < 200 || status === 204) return fail("transfer-encoding-without-body");
    if (classifyTransferEncoding(buf, fields, n) !== TE_CHUNKED) return fail("bad-transfer-encoding");
    if (request.version === 10 && request.method !== "HEAD" && status >= 200 && status !== 304) {
      return fail("chunked-to-http10");
    }
  }

  let tokens: readonly string[] = EMPTY;
  let bits = 0;
  if (firstOf[F_CONNECTION]! >= 0) {
    [bits, tokens] = connectionOptions(buf, fields, n);
    if (bits & CONN_INVALID) return fail("bad-connection");
  }
  let keepAlive =
    version === 11 ? (bits & CONN_CLOSE) === 0 : (bits & (CONN_KEEP_ALIVE | CONN_CLOSE)) === CONN_KEEP_ALIVE;

  let framing: Framing;
  let upgrade: string | undefined;
  if (status === 101) {
    if (!request.upgrade || version !== 11) return fail("unexpected-101");
    const u = firstOf[F_UPGRADE]!;
    if (u >= 0) upgrade = latin1(buf, fields[u * STRIDE + VALUE]!, fields[u * STRIDE + VALUE_END]!);
    framing = TUNNEL;
    keepAlive = false;
  } else if (status < 200 || status === 204 || status === 304 || request.method === "HEAD") {
    framing = NONE;
  } else if (request.method === "CONNECT" && status < 300) {
    framing = TUNNEL;
    keepAlive = false;
  } else if (teAt >= 0) {
    framing = CHUNKED;
  } else if (length >= 0) {
    framing = length === 0 ? NONE : lengthFraming(length);
  } else {
    framing = UNTIL_CLOSE;
    keepAlive = false;
  }

  const head = new Response(
    buf,
    end,
    0,
    lineEnd,
    version,
    table ?? fieldsCopy(n),
    n,
    framing,
    keepAlive,
    tokens,
    bits,
    upgrade,
    status,
    reasonStart,
  );
  return head;
}
