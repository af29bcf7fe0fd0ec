/** PROXY protocol v1/v2 (pure): detection of either version on an accepted connection, and encoders. */

import type { ProxyParse } from "./types.js";
import { decodeV1 } from "./v1.js";
import { decodeV2, V2_DEFAULT_MAX } from "./v2.js";

export {
  PP2_TYPE,
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyParse,
  type ProxyTlv,
  type ProxyTransport,
} from "./types.js";
export { decodeV1, encodeV1, V1_MAX } from "./v1.js";
export { crc32c, decodeV2, encodeV2, V2_DEFAULT_MAX, V2_SIGNATURE } from "./v2.js";

/** Decodes a version 1 or 2 header at the start of `buf` (whichever its first byte announces). */
export function decodeProxyHeader(buf: Uint8Array, max = V2_DEFAULT_MAX): ProxyParse {
  if (buf.length === 0) return { kind: "incomplete" };
  if (buf[0] === 0x0d) return decodeV2(buf, max);
  if (buf[0] === 0x50) return decodeV1(buf);
  return { kind: "error", reason: "not a PROXY protocol header" };
}
