/**
 * Incremental body delimiters. They tell the shell how many bytes of each read belong to the body so it can
 * forward them verbatim (no copy, no re-encoding) and find where the next pipelined message starts. ChunkedBody
 * validates the chunked coding as it passes (RFC 9112 §7.1): chunk-size lines, extensions, the CRLF after each
 * chunk's data, and the trailer section with the same field rules as a head.
 */
import { CR, FIELD_VALUE, HEX, HTAB, LF, QDTEXT, SP, TOKEN } from "./chars.js";
import type { BodyDecoder, ChunkedLimits } from "./types.js";

export const DEFAULT_CHUNKED_LIMITS: Readonly<ChunkedLimits> = Object.freeze({
  maxChunkLine: 4096,
  maxTrailerSize: 16384,
});

/** A body of exactly `n` bytes. */
export class ContentLengthBody implements BodyDecoder {
  remaining: number;
  error: string | undefined = undefined;
  constructor(n: number) {
    this.remaining = n;
  }

  get done(): boolean {
    return this.remaining === 0;
  }

  feed(buf: Buffer, offset: number, end = buf.length): number {
    const take = Math.min(this.remaining, end - offset);
    if (take <= 0) return 0;
    this.remaining -= take;
    return take;
  }
}

const SIZE_FIRST = 0;
const SIZE = 1;
const EXT_NAME_FIRST = 2;
const EXT_NAME = 3;
const EXT_VALUE_FIRST = 4;
const EXT_TOKEN = 5;
const EXT_QUOTED = 6;
const EXT_QUOTED_PAIR = 7;
const EXT_QUOTED_END = 8;
const SIZE_LF = 9;
const DATA = 10;
const DATA_CR = 11;
const DATA_LF = 12;
const TRAILER_FIRST = 13;
const TRAILER_NAME = 14;
const TRAILER_VALUE = 15;
const TRAILER_LF = 16;
const FINAL_LF = 17;
const DONE = 18;
const FAILED = 19;

/** Fields that must not appear in a trailer section: framing, routing, connection management. */
const FORBIDDEN_TRAILERS = new Set([
  "content-length",
  "transfer-encoding",
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
]);
const LONGEST_FORBIDDEN = 17;

/** A chunked body, validated while it passes. */
export class ChunkedBody implements BodyDecoder {
  error: string | undefined = undefined;
  private state = SIZE_FIRST;
  private size = 0;
  /** Bytes of the current chunk-size line. */
  private line = 0;
  /** Bytes of the trailer section so far. */
  private trailer = 0;
  /** Lower-case trailer field name while it is short enough to be a forbidden one. */
  private name = "";
  private readonly maxLine: number;
  private readonly maxTrailer: number;

  constructor(limits: ChunkedLimits = DEFAULT_CHUNKED_LIMITS) {
    this.maxLine = limits.maxChunkLine;
    this.maxTrailer = limits.maxTrailerSize;
  }

  get done(): boolean {
    return this.state === DONE;
  }

  private fail(reason: string): void {
    this.error = reason;
    this.state = FAILED;
  }

  feed(buf: Buffer, offset: number, end = buf.length): number {
    let p = offset;
    while (p < end) {
      const state = this.state;
      if (state === DATA) {
        const take = Math.min(this.size, end - p);
        this.size -= take;
        p += take;
        if (this.size === 0) this.state = DATA_CR;
        continue;
      }
      if (state >= DONE) break;
      const c = buf[p]!;
      if (state < SIZE_LF && ++this.line > this.maxLine) {
        this.fail("chunk-line-too-long");
        break;
      }
      if (state >= TRAILER_FIRST && ++this.trailer > this.maxTrailer) {
        this.fail("trailer-too-large");
        break;
      }
      if (!this.step(state, c)) break;
      p++;
    }
    return p - offset;
  }

  /** One byte of a chunk-size line, a chunk's CRLF or the trailer section; false when it is invalid. */
  private step(state: number, c: number): boolean {
    switch (state) {
      case SIZE_FIRST:
      case SIZE: {
        const h = HEX[c]!;
        if (h !== 0) {
          const size = this.size * 16 + (h - 1);
          if (size > Number.MAX_SAFE_INTEGER) return this.bad("chunk-size-overflow");
          this.size = size;
          this.state = SIZE;
          return true;
        }
        if (state === SIZE_FIRST) return this.bad("bad-chunk-size");
        if (c === 0x3b) this.state = EXT_NAME_FIRST;
        else if (c === CR) this.state = SIZE_LF;
        else return this.bad("bad-chunk-size");
        return true;
      }
      case EXT_NAME_FIRST:
        if (TOKEN[c] !== 1) return this.bad("bad-chunk-extension");
        this.state = EXT_NAME;
        return true;
      case EXT_NAME:
      case EXT_TOKEN:
        if (TOKEN[c] === 1) return true;
        if (c === 0x3d && state === EXT_NAME) this.state = EXT_VALUE_FIRST;
        else if (c === 0x3b) this.state = EXT_NAME_FIRST;
        else if (c === CR) this.state = SIZE_LF;
        else return this.bad("bad-chunk-extension");
        return true;
      case EXT_VALUE_FIRST:
        if (TOKEN[c] === 1) this.state = EXT_TOKEN;
        else if (c === 0x22) this.state = EXT_QUOTED;
        else return this.bad("bad-chunk-extension");
        return true;
      case EXT_QUOTED:
        if (c === 0x22) this.state = EXT_QUOTED_END;
        else if (c === 0x5c) this.state = EXT_QUOTED_PAIR;
        else if (QDTEXT[c] !== 1) return this.bad("bad-chunk-extension");
        return true;
      case EXT_QUOTED_PAIR:
        if (c !== HTAB && (c < 0x20 || c === 0x7f)) return this.bad("bad-chunk-extension");
        this.state = EXT_QUOTED;
        return true;
      case EXT_QUOTED_END:
        if (c === 0x3b) this.state = EXT_NAME_FIRST;
        else if (c === CR) this.state = SIZE_LF;
        else return this.bad("bad-chunk-extension");
        return true;
      case SIZE_LF:
        if (c !== LF) return this.bad("bare-cr");
        this.line = 0;
        this.state = this.size === 0 ? TRAILER_FIRST : DATA;
        return true;
      case DATA_CR:
        if (c !== CR) return this.bad("chunk-data-overrun");
        this.state = DATA_LF;
        return true;
      case DATA_LF:
        if (c !== LF) return this.bad("bare-cr");
        this.state = SIZE_FIRST;
        return true;
      case TRAILER_FIRST:
        if (c === CR) this.state = FINAL_LF;
        else if (c === SP || c === HTAB) return this.bad("obs-fold");
        else if (TOKEN[c] === 1) {
          this.name = String.fromCharCode(c | (c >= 0x41 && c <= 0x5a ? 0x20 : 0));
          this.state = TRAILER_NAME;
        } else return this.bad(c === LF ? "bare-lf" : "bad-field-name");
        return true;
      case TRAILER_NAME:
        if (TOKEN[c] === 1) {
          if (this.name.length <= LONGEST_FORBIDDEN) {
            this.name += String.fromCharCode(c | (c >= 0x41 && c <= 0x5a ? 0x20 : 0));
          }
          return true;
        }
        if (c === 0x3a) {
          if (FORBIDDEN_TRAILERS.has(this.name)) return this.bad("forbidden-trailer");
          this.state = TRAILER_VALUE;
          return true;
        }
        return this.bad(c === SP || c === HTAB ? "space-before-colon" : "bad-field-name");
      case TRAILER_VALUE:
        if (c === CR) this.state = TRAILER_LF;
        else if (FIELD_VALUE[c] !== 1) return this.bad("bad-field-value");
        return true;
      case TRAILER_LF:
        if (c !== LF) return this.bad("bare-cr");
        this.state = TRAILER_FIRST;
        return true;
      case FINAL_LF:
        if (c !== LF) return this.bad("bare-cr");
        this.state = DONE;
        return true;
      default:
        return false;
    }
  }

  private bad(reason: string): boolean {
    this.fail(reason);
    return false;
  }
}
