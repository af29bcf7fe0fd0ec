/**
 * The contract of the HTTP/1.1 wire layer (src/http): pure, strict, incremental, no node:http.
 *
 * Parsing
 *   parseRequestHead(buf, limits, scan?)               → HeadParse<RequestHead>   (errors: 400/414/431/501/505)
 *   parseResponseHead(buf, limits, request, scan?)     → HeadParse<ResponseHead>  (errors: always 502)
 *   `buf` starts at the first byte of the message (the shell passes a subarray for a pipelined message). Call
 *   again with the same bytes plus more after `incomplete`; pass the same `HeadScan` (from `newHeadScan()`) so the
 *   search for the end of the head resumes where it stopped. The parser resets the scan after `head`/`error`.
 *   A result `head` says `length`: the bytes of `buf` the head occupies; the body (if any) starts at `length`.
 *   A head keeps a reference to `buf` (`raw`) and reads its lazy accessors (`headers`, `get`, `path`…) and the
 *   forwarding serialisers from it: do not overwrite those bytes while the head is in use.
 *
 * Bodies
 *   new ContentLengthBody(n), new ChunkedBody(limits?): `feed(buf, offset, end?)` returns how many bytes from
 *   `offset` belong to the body (forward exactly those, verbatim); then `.done` says the body ended (the next
 *   message starts right after) and `.error` (a reason code) says the body is malformed (abort both sides; the
 *   bytes counted before the error were valid). Chunked bodies are validated while passing through, trailers too.
 *
 * Forwarding (forward.ts): serialiseRequest(head, ctx, rules?) / serialiseResponse(head, ctx, rules?) → one
 *   Buffer: hop-by-hop fields removed (RFC 9110 §7.6.1 and the names listed in Connection), framing re-stated
 *   canonically, `Connection` set from `ctx`, X-Forwarded-* / Forwarded added per `rules`, header edits applied.
 * Canned responses (responses.ts): cannedResponse(status, close) → a pre-encoded Buffer.
 *
 * Rejection rules and their status codes are listed in packages/proxy/README.md ("Wire layer and strictness").
 */

/** Size limits for a head. Exceeding one is an error (414 / 431 for requests, 502 for responses). */
export interface HeadLimits {
  /** Bytes of the request line (status line for responses), CRLF excluded. Request: 414 beyond it. */
  maxRequestLine: number;
  /** Bytes of the whole head, start line and final CRLFCRLF included. Request: 431 beyond it. */
  maxHeadSize: number;
  /** Number of header fields. Request: 431 beyond it. */
  maxHeaders: number;
}

/** Limits for a chunked body: chunk-size line (with extensions) and trailer section, in bytes. */
export interface ChunkedLimits {
  /** Bytes of one chunk-size line including extensions, CRLF excluded. */
  maxChunkLine: number;
  /** Bytes of the trailer section including the final CRLF. */
  maxTrailerSize: number;
}

/**
 * How the body after a head is delimited.
 * - `none`: no body (requests without CL/TE; HEAD, 1xx, 204, 304 responses).
 * - `length`: exactly `n` bytes (`n` may be 0).
 * - `chunked`: chunked transfer coding (the only one accepted); the body ends after the trailer section.
 * - `until-close`: responses only: the body runs until the server closes (no CL/TE); never keep-alive.
 * - `tunnel`: responses only: 2xx to CONNECT or 101 to an Upgrade request; raw bytes both ways from here.
 */
export type Framing =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly n: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "until-close" }
  | { readonly kind: "tunnel" };

/** Which form the request target has (RFC 9112 §3.2). */
export type TargetForm = "origin" | "absolute" | "authority" | "asterisk";

/** What request and response heads share. Header names are matched case-insensitively. */
export interface MessageHead {
  /** The buffer the head was parsed from; the head occupies `raw[0, length)`. */
  readonly raw: Buffer;
  /** Bytes of `raw` the head occupies (leading empty lines before a request line included). */
  readonly length: number;
  /** 10 for HTTP/1.0, 11 for HTTP/1.1 (other versions are refused). */
  readonly version: 10 | 11;
  /** Number of header fields. */
  readonly fieldCount: number;
  /** Lower-case name of field `i` (0-based, in wire order). */
  name(i: number): string;
  /** Name of field `i` as received (original case). */
  rawName(i: number): string;
  /** Value of field `i`, leading/trailing whitespace removed. */
  value(i: number): string;
  /** Value of the first field named `name` (any case), undefined when absent. */
  get(name: string): string | undefined;
  /** Values of all fields named `name` (any case), in wire order. */
  getAll(name: string): string[];
  /** Flat `[name0, value0, name1, value1, …]`, names lower-case; built on first access and cached. */
  readonly headers: readonly string[];
  /** Body delimitation, decided per RFC 9112 §6.3. */
  readonly framing: Framing;
  /** Whether the sender lets this connection carry another message after this one. */
  readonly keepAlive: boolean;
  /** Lower-case connection options listed in `Connection` (close, keep-alive, upgrade and any field names). */
  readonly connectionTokens: readonly string[];
  /** The `Upgrade` value when `Connection` lists `upgrade` (HTTP/1.1 only); undefined otherwise. */
  readonly upgrade: string | undefined;
}

export interface RequestHead extends MessageHead {
  /** The method as sent (case-sensitive token); well-known methods are interned strings. */
  readonly method: string;
  /** The request target as sent. */
  readonly target: string;
  readonly targetForm: TargetForm;
  /** The path of the target (origin-form: up to `?`; absolute-form: the path after the authority, `/` if empty). */
  readonly path: string;
  /** The query without `?`, undefined when the target has none. */
  readonly query: string | undefined;
  /** The Host field value (validated; as sent); for absolute-form it equals the target's authority. */
  readonly host: string | undefined;
  /** `Expect: 100-continue` on an HTTP/1.1 request. */
  readonly expectContinue: boolean;
}

export interface ResponseHead extends MessageHead {
  readonly status: number;
  readonly reason: string;
  /** A 1xx other than 101: forward it, then parse the next response head for the same request. */
  readonly informational: boolean;
}

/** What the response parser needs to know about the request it answers (a RequestHead fits). */
export interface ResponseContext {
  readonly method: string;
  /** The request asked for a protocol upgrade; a 101 without it is an error. */
  readonly upgrade?: string | undefined;
  /** The request's version: a chunked response to an HTTP/1.0 request is an error (the client cannot read it). */
  readonly version?: 10 | 11;
}

export type RequestErrorStatus = 400 | 414 | 431 | 501 | 505;

/** The result of parsing a head. `reason` is a short stable code such as `bad-content-length`. */
export type HeadParse<H> =
  | { readonly kind: "incomplete" }
  | { readonly kind: "error"; readonly status: number; readonly reason: string }
  | { readonly kind: "head"; readonly head: H; readonly length: number };

/** @internal A parse that found no head: not all of it yet, or an error (`HeadParse` without its `head` case). */
export type HeadMiss = Exclude<HeadParse<never>, { kind: "head" }>;

/** Resumption state of an incremental head parse (opaque to callers: create with `newHeadScan()`). */
export interface HeadScan {
  /** Offset up to which `buf` has been scanned for the end of the head. */
  pos: number;
  /** Offset of the previous LF seen, -1 when none. */
  lastLf: number;
  /** Offset of the first LF (end of the start line), -1 when not yet seen. */
  firstLf: number;
  /** Header lines seen so far. */
  lines: number;
  /** Offset of the start line (after skipped empty lines). */
  start: number;
}

/** Incremental body delimiter: ContentLengthBody and ChunkedBody implement it. */
export interface BodyDecoder {
  /**
   * Consumes body bytes of `buf[offset, end)`; returns how many of them belong to the body. Stops at the end of
   * the body (`done`) or at the first invalid byte (`error` set). Never throws on input.
   */
  feed(buf: Buffer, offset: number, end?: number): number;
  /** The body ended: the bytes after the last consumed one belong to the next message. */
  readonly done: boolean;
  /** A reason code when the body is malformed (`bad-chunk-size`, …); undefined otherwise. */
  readonly error: string | undefined;
}

/** Per-message facts the forwarding serialisers need. */
export interface ForwardContext {
  /**
   * What `Connection` tells the next hop: `keep-alive`, `close`, or `upgrade` (keeps `Upgrade` and states
   * `Connection: upgrade`; for tunnelling a request that asked for one, or the 101 answering it).
   */
  connection: "keep-alive" | "close" | "upgrade";
  /** The client's address (X-Forwarded-For, Forwarded `for=`); requests only. */
  clientAddress?: string;
  /** The scheme the client used (X-Forwarded-Proto, Forwarded `proto=`); requests only. */
  proto?: "http" | "https";
}

/** Options of `headerRules()`: header edits applied while forwarding, validated once. */
export interface HeaderRulesOptions {
  /** HAProxy `del-header`: remove every field with this name. */
  del?: readonly string[];
  /** HAProxy `set-header`: remove every field with this name, then add one with the value. */
  set?: readonly (readonly [name: string, value: string])[];
  /** HAProxy `add-header`: add a field, keeping existing ones. */
  add?: readonly (readonly [name: string, value: string])[];
  /** HAProxy `option forwardfor`: append `X-Forwarded-For: <client>` (or `header`), unless `except(client)`. */
  forwardedFor?: boolean | { header?: string; except?: (address: string) => boolean };
  /** Set `X-Forwarded-Proto: <proto>`. */
  forwardedProto?: boolean;
  /** Set `X-Forwarded-Host: <host>` when the request has a Host. */
  forwardedHost?: boolean;
  /** RFC 7239: append `Forwarded: for=…;proto=…;host=…` (`by` adds `by=`). */
  forwarded?: boolean | { by?: string };
}
