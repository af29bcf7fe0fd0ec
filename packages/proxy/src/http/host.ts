/** Host syntax (RFC 9110 §7.2, RFC 3986 §3.2.2) and the comparison of a Host value with a target's authority. */
import { HEX, HOST, IP_LITERAL, latin1 } from "./chars.js";

/** Validates a host (`uri-host [":" port]`) in `buf[s, e)`; `needPort` for CONNECT. */
export function validHost(buf: Buffer, s: number, e: number, needPort: boolean): boolean {
  let p = s;
  if (p < e && buf[p] === 0x5b) {
    p++;
    while (p < e && IP_LITERAL[buf[p]!] === 1) p++;
    if (p === s + 1 || p >= e || buf[p] !== 0x5d) return false;
    p++;
  } else {
    while (p < e && HOST[buf[p]!] === 1) {
      if (buf[p] === 0x25 && (HEX[buf[p + 1]!] === 0 || HEX[buf[p + 2]!] === 0 || p + 2 >= e)) return false;
      p++;
    }
    if (p === s) return false;
  }
  if (p === e) return !needPort;
  if (buf[p] !== 0x3a) return false;
  p++;
  if (p === e) return !needPort;
  for (; p < e; p++) if (buf[p]! < 0x30 || buf[p]! > 0x39) return false;
  return true;
}

/** Case-insensitive equality of two byte ranges (ASCII letters only fold). */
function sameBytesIgnoreCase(buf: Buffer, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    let x = buf[a + i]!;
    let y = buf[b + i]!;
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

/**
 * Whether a Host value and a target's authority name the same thing: equal ignoring ASCII case, or equal but for
 * `:port` on one side when that port is `defaultPort` (`*`: any port, for CONNECT's Host without the port).
 */
export function sameAuthority(
  buf: Buffer,
  hs: number,
  he: number,
  as: number,
  ae: number,
  defaultPort: string,
): boolean {
  const hl = he - hs;
  const al = ae - as;
  if (hl === al) return sameBytesIgnoreCase(buf, hs, as, hl);
  const [short, long, sl, ll] = hl < al ? [hs, as, hl, al] : [as, hs, al, hl];
  if (buf[long + sl] !== 0x3a || !sameBytesIgnoreCase(buf, short, long, sl)) return false;
  if (defaultPort === "*") return hl < al;
  return ll - sl - 1 === defaultPort.length && latin1(buf, long + sl + 1, long + ll) === defaultPort;
}
