/**
 * Finding the end of a head, incrementally: hops from LF to LF (Buffer#indexOf, a memchr) and remembers where it
 * stopped, so a head arriving over many reads is scanned once. Every LF must follow a CR (bare LF is rejected at
 * once, not repaired), and the limits are enforced while bytes arrive, before the head is complete.
 */
import { STRIDE } from "./head.js";
import type { HeadLimits, HeadScan } from "./types.js";

export const DEFAULT_HEAD_LIMITS: Readonly<HeadLimits> = Object.freeze({
  maxRequestLine: 8192,
  maxHeadSize: 16384,
  maxHeaders: 100,
});

/** A connection's scan state lives as long as the connection: an instance, never a literal (see close-hooks.ts). */
class Scan implements HeadScan {
  pos = -1;
  lastLf = -1;
  firstLf = -1;
  lines = 0;
  start = 0;
  /** An owning scan's field table while its connection has a head in use (`scanTable`, `releaseScan`). */
  table: number[] | undefined = undefined;
  constructor(
    /** Whether heads parsed with this scan share a field table (`newOwningScan`) instead of each taking a copy. */
    readonly owning: boolean,
  ) {}
}

/** A fresh resumption state for `parseRequestHead` / `parseResponseHead`. */
export function newHeadScan(): HeadScan {
  return new Scan(false);
}

/**
 * @internal A scan whose heads share one field table instead of each taking a copy: a head parsed with it is valid
 * only until the next parse with it, or until `releaseScan`. For a connection that is done with one head before it
 * parses the next (the proxy's request and response scans): one allocation less per head.
 */
export function newOwningScan(): HeadScan {
  return new Scan(true);
}

/**
 * Tables handed back by connections gone idle, for the next head any connection parses: an idle connection keeps
 * none (a few hundred bytes each), and a busy one rarely allocates one. Tables start as a `slice`, not a literal:
 * a literal is an allocation site, and V8 pretenures a site whose objects live long (test/proxy-gc, close-hooks.ts).
 */
const spareTables: number[][] = [];
const MAX_SPARE_TABLES = 256;
const NO_FIELDS: readonly number[] = [];

/** @internal The field table a head parsed with `scan` shares (taken from the spares when it has none), else undefined. */
export function scanTable(scan: HeadScan): number[] | undefined {
  const s = scan as Scan;
  if (s.owning !== true) return undefined;
  if (s.table === undefined) s.table = spareTables.pop() ?? NO_FIELDS.slice();
  return s.table;
}

/**
 * @internal Hands an owning scan's table back, for a connection about to wait idle that no longer uses any head it
 * parsed. A table a head of more than 32 fields grew is let go instead of kept.
 */
export function releaseScan(scan: HeadScan): void {
  const s = scan as Scan;
  const t = s.table;
  if (t === undefined) return;
  s.table = undefined;
  if (t.length <= 32 * STRIDE && spareTables.length < MAX_SPARE_TABLES) spareTables.push(t);
}

export function resetScan(scan: HeadScan): void {
  scan.pos = -1;
  scan.lastLf = -1;
  scan.firstLf = -1;
  scan.lines = 0;
  scan.start = 0;
}

/** scanHead results below 0 (≥ 0 is the end offset of the head, exclusive). */
export const SCAN_INCOMPLETE = -1;
export const SCAN_BARE_LF = -2;
export const SCAN_BARE_CR = -3;
export const SCAN_LINE_TOO_LONG = -4;
export const SCAN_HEAD_TOO_LARGE = -5;
export const SCAN_TOO_MANY_HEADERS = -6;

/**
 * Scans `buf` for the CRLFCRLF ending a head. `skipEmptyLines` (requests) skips CRLFs before the start line
 * (RFC 9112 §2.2); `scan.start` is then where the start line begins.
 */
export function scanHead(buf: Buffer, limits: HeadLimits, scan: HeadScan, skipEmptyLines: boolean): number {
  const len = buf.length;
  let p = scan.pos;
  if (p < 0) {
    // before the start line: skip empty lines, remembering how far (scan.start) in case the bytes stop here
    p = scan.start;
    if (skipEmptyLines) {
      while (p < len && buf[p] === 13) {
        if (p + 1 >= len) break;
        if (buf[p + 1] !== 10) return SCAN_BARE_CR;
        p += 2;
        if (p > limits.maxHeadSize) return SCAN_HEAD_TOO_LARGE;
      }
      scan.start = p;
      if (p < len && buf[p] === 10) return SCAN_BARE_LF;
      if (p >= len || buf[p] === 13) return SCAN_INCOMPLETE;
    }
    scan.start = p;
    scan.pos = p;
  }
  const start = scan.start;
  for (;;) {
    const lf = buf.indexOf(10, p);
    if (lf < 0) {
      scan.pos = len;
      if (scan.firstLf < 0 && len - start > limits.maxRequestLine + 1) return SCAN_LINE_TOO_LONG;
      if (len > limits.maxHeadSize) return SCAN_HEAD_TOO_LARGE;
      return SCAN_INCOMPLETE;
    }
    if (lf === start || buf[lf - 1] !== 13) return SCAN_BARE_LF;
    if (buf[lf - 2] === 13 && lf - 2 > scan.lastLf && lf - 2 >= start) return SCAN_BARE_CR;
    if (lf + 1 > limits.maxHeadSize) {
      return scan.firstLf < 0 && lf - 1 - start > limits.maxRequestLine
        ? SCAN_LINE_TOO_LONG
        : SCAN_HEAD_TOO_LARGE;
    }
    if (scan.firstLf < 0) {
      if (lf - 1 - start > limits.maxRequestLine) return SCAN_LINE_TOO_LONG;
      scan.firstLf = lf;
    } else if (scan.lastLf === lf - 2) {
      return lf + 1;
    } else if (++scan.lines > limits.maxHeaders) {
      return SCAN_TOO_MANY_HEADERS;
    }
    scan.lastLf = lf;
    p = lf + 1;
  }
}

export const INCOMPLETE = Object.freeze({ kind: "incomplete" as const });

/** The error result for a negative scanHead outcome: request statuses, or 502 for a response. */
export function scanError(code: number, request: boolean): { kind: "error"; status: number; reason: string } {
  switch (code) {
    case SCAN_BARE_LF:
      return { kind: "error", status: request ? 400 : 502, reason: "bare-lf" };
    case SCAN_BARE_CR:
      return { kind: "error", status: request ? 400 : 502, reason: "bare-cr" };
    case SCAN_LINE_TOO_LONG:
      return { kind: "error", status: request ? 414 : 502, reason: "start-line-too-long" };
    case SCAN_TOO_MANY_HEADERS:
      return { kind: "error", status: request ? 431 : 502, reason: "too-many-headers" };
    default:
      return { kind: "error", status: request ? 431 : 502, reason: "head-too-large" };
  }
}
