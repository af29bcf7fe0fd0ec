/** Byte-class tables for the HTTP/1.1 grammar (RFC 9110 §5.6, RFC 9112, RFC 3986), indexed by byte value. */

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = accept(c) ? 1 : 0;
  return t;
}

const isAlnum = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** tchar: token characters (field names, methods, transfer codings, connection options). */
export const TOKEN = table((c) => isAlnum(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/** field-vchar / SP / HTAB: bytes allowed in a field value (obs-text included; CTLs, DEL, CR, LF not). */
export const FIELD_VALUE = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/** Bytes allowed in a reason phrase: HTAB / SP / VCHAR / obs-text. */
export const REASON = FIELD_VALUE;

/** reg-name / IPv4 characters of a host: unreserved / sub-delims / `%` (escape checked apart). */
export const HOST = table((c) => isAlnum(c) || "-._~!$&'()*+,;=%".includes(String.fromCharCode(c)));

/** Characters inside an IP-literal `[…]`: hex digits, `:`, `.`, and IPvFuture's `v` plus unreserved/sub-delims. */
export const IP_LITERAL = table((c) => isAlnum(c) || ":.-_~!$&'()*+,;=".includes(String.fromCharCode(c)));

/** qdtext of a quoted-string (HTAB, SP, VCHAR except `"` and `\`, obs-text). */
export const QDTEXT = table(
  (c) => c === 0x09 || c === 0x20 || (c >= 0x21 && c !== 0x22 && c !== 0x5c && c !== 0x7f),
);

/** Hex digit value + 1, or 0 when not a hex digit. */
export const HEX = (() => {
  const t = new Uint8Array(256);
  for (let d = 0; d < 10; d++) t[0x30 + d] = d + 1;
  for (let d = 0; d < 6; d++) {
    t[0x41 + d] = d + 11;
    t[0x61 + d] = d + 11;
  }
  return t;
})();

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;

/** True when `buf[s, e)` equals the lower-case ASCII `lower`, ignoring case. */
export function equalsLower(buf: Buffer, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if ((buf[s + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

type Latin1 = { latin1Slice(start: number, end: number): string };

/** `buf[s, e)` as a latin1 string (Buffer#latin1Slice: the fastest bytes → string Node has). */
export function latin1(buf: Buffer, s: number, e: number): string {
  return (buf as unknown as Latin1).latin1Slice(s, e);
}
