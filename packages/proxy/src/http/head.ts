/**
 * What request and response heads share: the header-section parser (one pass over the bytes, offsets recorded,
 * no strings made) and the head object, whose strings are made lazily from those offsets.
 */
import { CR, equalsLower, HTAB, LF, latin1, SP, TOKEN } from "./chars.js";
import type { Framing, MessageHead } from "./types.js";

/** Field kinds the parser recognises (slot KIND of a field). */
export const F_OTHER = 0;
export const F_HOST = 1;
export const F_CONTENT_LENGTH = 2;
export const F_TRANSFER_ENCODING = 3;
export const F_CONNECTION = 4;
export const F_KEEP_ALIVE = 5;
export const F_PROXY_CONNECTION = 6;
export const F_TE = 7;
export const F_UPGRADE = 8;
export const F_TRAILER = 9;
export const F_EXPECT = 10;

/** Fields are stored as STRIDE ints: name start, name end (the colon), value start, value end, CR, kind. */
export const STRIDE = 6;
export const NAME = 0;
export const NAME_END = 1;
export const VALUE = 2;
export const VALUE_END = 3;
export const EOL = 4;
export const KIND = 5;

export const NONE: Framing = Object.freeze({ kind: "none" });
export const CHUNKED: Framing = Object.freeze({ kind: "chunked" });
export const UNTIL_CLOSE: Framing = Object.freeze({ kind: "until-close" });
export const TUNNEL: Framing = Object.freeze({ kind: "tunnel" });
export const EMPTY: readonly string[] = Object.freeze([]);

/**
 * `{ kind: "length", n }`, shared: a small direct-mapped cache of frozen framings, since a server sends the same
 * lengths over and over (one object less per head when it hits).
 */
const lengthFramings: ({ readonly kind: "length"; readonly n: number } | undefined)[] = new Array(256).fill(
  undefined,
);
export function lengthFraming(n: number): Framing {
  const slot = n & 255;
  const f = lengthFramings[slot];
  if (f !== undefined && f.n === n) return f;
  const made = Object.freeze({ kind: "length" as const, n });
  lengthFramings[slot] = made;
  return made;
}

function kindOf(buf: Buffer, s: number, e: number): number {
  switch (e - s) {
    case 2:
      return equalsLower(buf, s, e, "te") ? F_TE : F_OTHER;
    case 4:
      return equalsLower(buf, s, e, "host") ? F_HOST : F_OTHER;
    case 6:
      return equalsLower(buf, s, e, "expect") ? F_EXPECT : F_OTHER;
    case 7:
      if (equalsLower(buf, s, e, "upgrade")) return F_UPGRADE;
      return equalsLower(buf, s, e, "trailer") ? F_TRAILER : F_OTHER;
    case 10:
      if (equalsLower(buf, s, e, "connection")) return F_CONNECTION;
      return equalsLower(buf, s, e, "keep-alive") ? F_KEEP_ALIVE : F_OTHER;
    case 14:
      return equalsLower(buf, s, e, "content-length") ? F_CONTENT_LENGTH : F_OTHER;
    case 16:
      return equalsLower(buf, s, e, "proxy-connection") ? F_PROXY_CONNECTION : F_OTHER;
    case 17:
      return equalsLower(buf, s, e, "transfer-encoding") ? F_TRANSFER_ENCODING : F_OTHER;
    default:
      return F_OTHER;
  }
}

const KINDS = 11;
/**
 * Scratch filled by the last `parseFields` call (read it right after, synchronously): the index of the first
 * field of each kind (-1 when none) and how many fields of each kind there are.
 */
export const firstOf = new Int32Array(KINDS);
export const countOf = new Int32Array(KINDS);

/**
 * Scratch for `parseFields`: it only grows, so a head's field offsets are written without the reallocations of
 * an array pushed from empty; the head keeps an exact-size copy (`fieldsCopy`).
 */
export const fieldScratch: number[] = [];

/** The first `count` fields of `fieldScratch`, as the array a head keeps. */
export function fieldsCopy(count: number): number[] {
  return fieldScratch.slice(0, count * STRIDE);
}

/**
 * Parses the header lines of `buf[p, end)` (`end` is the CR of the final empty line) into `fields` from index 0
 * (entries past the count are stale). Returns the field count, or a reason code for the first violation.
 */
export function parseFields(buf: Buffer, p: number, end: number, fields: number[]): number | string {
  let n = 0;
  let o = 0;
  for (let k = 0; k < KINDS; k++) {
    firstOf[k] = -1;
    countOf[k] = 0;
  }
  while (p < end) {
    let c = buf[p]!;
    if (c === SP || c === HTAB) return "obs-fold";
    const nameStart = p;
    while (TOKEN[c] === 1) c = buf[++p]!;
    if (c !== 0x3a) {
      if (c === SP || c === HTAB) return "space-before-colon";
      return "bad-field-name";
    }
    if (p === nameStart) return "empty-field-name";
    const nameEnd = p;
    c = buf[++p]!;
    while (c === SP || c === HTAB) c = buf[++p]!;
    const valueStart = p;
    // field-vchar / SP / HTAB / obs-text (the FIELD_VALUE class, as arithmetic: faster than the table here)
    while ((c > 0x1f && c !== 0x7f) || c === HTAB) c = buf[++p]!;
    if (c !== CR) return "bad-field-value";
    if (buf[p + 1] !== LF) return "bare-cr";
    let valueEnd = p;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    const kind = kindOf(buf, nameStart, nameEnd);
    if (kind !== F_OTHER && countOf[kind]!++ === 0) firstOf[kind] = n;
    fields[o] = nameStart;
    fields[o + 1] = nameEnd;
    fields[o + 2] = valueStart;
    fields[o + 3] = valueEnd;
    fields[o + 4] = p;
    fields[o + 5] = kind;
    o += STRIDE;
    n++;
    p += 2;
  }
  return n;
}

/** Content-Length: 1*DIGIT, at most 2^53 - 1. Returns -1 when malformed, -2 when it overflows. */
export function parseLength(buf: Buffer, s: number, e: number): number {
  if (s === e) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n > Number.MAX_SAFE_INTEGER ? -2 : n;
}

/** The Transfer-Encoding verdict for the combined list of every TE field. */
export const TE_CHUNKED = 0;
export const TE_INVALID = 1;
/** A well-formed list ending in `chunked` with other codings before it (we implement only chunked). */
export const TE_UNSUPPORTED = 2;

/**
 * Classifies the Transfer-Encoding fields. Elements must be bare tokens (no parameters, no empty elements);
 * `chunked` must be last and appear once.
 */
export function classifyTransferEncoding(buf: Buffer, fields: number[], count: number): number {
  let elements = 0;
  let chunkedAt = -1;
  for (let f = 0; f < count; f++) {
    const o = f * STRIDE;
    if (fields[o + KIND] !== F_TRANSFER_ENCODING) continue;
    let p = fields[o + VALUE]!;
    const e = fields[o + VALUE_END]!;
    if (p === e) return TE_INVALID;
    for (;;) {
      const s = p;
      while (p < e && TOKEN[buf[p]!] === 1) p++;
      if (p === s) return TE_INVALID;
      if (equalsLower(buf, s, p, "chunked")) {
        if (chunkedAt >= 0) return TE_INVALID;
        chunkedAt = elements;
      }
      elements++;
      while (p < e && (buf[p] === SP || buf[p] === HTAB)) p++;
      if (p === e) break;
      if (buf[p] !== 0x2c) return TE_INVALID;
      p++;
      while (p < e && (buf[p] === SP || buf[p] === HTAB)) p++;
      if (p === e) return TE_INVALID;
    }
  }
  if (chunkedAt !== elements - 1) return TE_INVALID;
  return elements === 1 ? TE_CHUNKED : TE_UNSUPPORTED;
}

/** Connection options: bit CLOSE / KEEP_ALIVE / UPGRADE, and the list when `tokens` is wanted. */
export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2;
export const CONN_UPGRADE = 4;
export const CONN_OTHER = 8;
export const CONN_INVALID = 16;

/** More than one option listed. */
export const CONN_MANY = 32;

const CLOSE_ONLY: readonly string[] = Object.freeze(["close"]);
const KEEP_ALIVE_ONLY: readonly string[] = Object.freeze(["keep-alive"]);
const UPGRADE_ONLY: readonly string[] = Object.freeze(["upgrade"]);
const KEEP_ALIVE_RESULT: [number, readonly string[]] = [CONN_KEEP_ALIVE, KEEP_ALIVE_ONLY];
const CLOSE_RESULT: [number, readonly string[]] = [CONN_CLOSE, CLOSE_ONLY];

/** The Connection option bits and the lower-case option list (shared frozen arrays for a lone usual option). */
export function connectionOptions(buf: Buffer, fields: number[], count: number): [number, readonly string[]] {
  if (countOf[F_CONNECTION] === 1) {
    // the usual case: one Connection field holding exactly one well-known option
    const o = firstOf[F_CONNECTION]! * STRIDE;
    const s = fields[o + VALUE]!;
    const e = fields[o + VALUE_END]!;
    if (equalsLower(buf, s, e, "keep-alive")) return KEEP_ALIVE_RESULT;
    if (equalsLower(buf, s, e, "close")) return CLOSE_RESULT;
  }
  const bits = parseConnection(buf, fields, count, undefined);
  if (bits & (CONN_OTHER | CONN_MANY | CONN_INVALID)) {
    const out: string[] = [];
    return [parseConnection(buf, fields, count, out), out];
  }
  return [bits, bits === CONN_CLOSE ? CLOSE_ONLY : bits === CONN_KEEP_ALIVE ? KEEP_ALIVE_ONLY : UPGRADE_ONLY];
}

/** Reads every Connection field; returns the option bits and pushes the lower-case options to `out`. */
function parseConnection(buf: Buffer, fields: number[], count: number, out: string[] | undefined): number {
  let bits = 0;
  let options = 0;
  for (let f = 0; f < count; f++) {
    const o = f * STRIDE;
    if (fields[o + KIND] !== F_CONNECTION) continue;
    let p = fields[o + VALUE]!;
    const e = fields[o + VALUE_END]!;
    while (p < e) {
      const c = buf[p]!;
      if (c === 0x2c || c === SP || c === HTAB) {
        p++;
        continue;
      }
      const s = p;
      while (p < e && TOKEN[buf[p]!] === 1) p++;
      if (p === s) return CONN_INVALID;
      if (p < e && buf[p] !== 0x2c && buf[p] !== SP && buf[p] !== HTAB) return CONN_INVALID;
      if (++options > 1) bits |= CONN_MANY;
      if (equalsLower(buf, s, p, "close")) {
        bits |= CONN_CLOSE;
        out?.push("close");
      } else if (equalsLower(buf, s, p, "keep-alive")) {
        bits |= CONN_KEEP_ALIVE;
        out?.push("keep-alive");
      } else if (equalsLower(buf, s, p, "upgrade")) {
        bits |= CONN_UPGRADE;
        out?.push("upgrade");
      } else {
        bits |= CONN_OTHER;
        out?.push(latin1(buf, s, p).toLowerCase());
      }
    }
  }
  return bits;
}

/** The head object shared by requests and responses: facts precomputed, strings made on demand. */
export class Head implements MessageHead {
  private cachedHeaders: string[] | undefined;
  constructor(
    readonly raw: Buffer,
    readonly length: number,
    /** Offset of the start line and of its CR. */
    readonly lineStart: number,
    readonly lineEnd: number,
    readonly version: 10 | 11,
    /** STRIDE ints per field (see NAME…KIND). */
    readonly fields: number[],
    readonly fieldCount: number,
    readonly framing: Framing,
    readonly keepAlive: boolean,
    readonly connectionTokens: readonly string[],
    /** Bit set of CONN_* seen in Connection. */
    readonly connectionBits: number,
    readonly upgrade: string | undefined,
  ) {}

  name(i: number): string {
    const o = i * STRIDE;
    return latin1(this.raw, this.fields[o]!, this.fields[o + 1]!).toLowerCase();
  }

  rawName(i: number): string {
    const o = i * STRIDE;
    return latin1(this.raw, this.fields[o]!, this.fields[o + 1]!);
  }

  value(i: number): string {
    const o = i * STRIDE;
    return latin1(this.raw, this.fields[o + 2]!, this.fields[o + 3]!);
  }

  /** Index of the first field named `lower` (a lower-case name) at or after `from`, -1 when none. */
  indexOf(lower: string, from = 0): number {
    const f = this.fields;
    for (let i = from; i < this.fieldCount; i++) {
      const o = i * STRIDE;
      if (equalsName(this.raw, f[o]!, f[o + 1]!, lower)) return i;
    }
    return -1;
  }

  get(name: string): string | undefined {
    const i = this.indexOf(name.toLowerCase());
    return i < 0 ? undefined : this.value(i);
  }

  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    const out: string[] = [];
    for (let i = this.indexOf(lower); i >= 0; i = this.indexOf(lower, i + 1)) out.push(this.value(i));
    return out;
  }

  get headers(): readonly string[] {
    if (this.cachedHeaders) return this.cachedHeaders;
    const out = new Array<string>(this.fieldCount * 2);
    for (let i = 0; i < this.fieldCount; i++) {
      out[2 * i] = this.name(i);
      out[2 * i + 1] = this.value(i);
    }
    this.cachedHeaders = out;
    return out;
  }
}

/** Case-insensitive comparison of a token in `buf` with a lower-case name (any token characters). */
export function equalsName(buf: Buffer, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = buf[s + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
