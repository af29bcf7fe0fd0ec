/**
 * BFD control packets (RFC 5880 §4.1), pure: bytes in, a typed packet out, and back. Only the mandatory section
 * is encoded; a packet with the Authentication bit is decoded (its length checked) but lbkit never sends one.
 */

export const BFD_STATES = ["AdminDown", "Down", "Init", "Up"] as const;
export type BfdState = (typeof BFD_STATES)[number];

/** RFC 5880 §4.1 diagnostic codes (the ones lbkit sets or reports). */
export const BFD_DIAGS = [
  "none",
  "detect-expired", // 1 Control Detection Time Expired
  "echo-failed", // 2
  "neighbor-down", // 3 Neighbor Signaled Session Down
  "forwarding-reset", // 4
  "path-down", // 5
  "concatenated-path-down", // 6
  "admin-down", // 7 Administratively Down
  "reverse-concatenated-path-down", // 8
] as const;
export type BfdDiag = (typeof BFD_DIAGS)[number];

export interface BfdPacket {
  version: number;
  diag: BfdDiag;
  state: BfdState;
  poll: boolean;
  final: boolean;
  controlPlaneIndependent: boolean;
  authPresent: boolean;
  demand: boolean;
  multipoint: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  /** microseconds */
  desiredMinTxInterval: number;
  /** microseconds */
  requiredMinRxInterval: number;
  /** microseconds */
  requiredMinEchoRxInterval: number;
}

export const BFD_HEADER_LENGTH = 24;

/** Why a datagram is not a BFD control packet (RFC 5880 §6.8.6, the checks that need no session). */
export type BfdDecodeError =
  | "short"
  | "version"
  | "length"
  | "detect-mult-zero"
  | "multipoint"
  | "my-discriminator-zero";

export type BfdDecoded = { ok: true; packet: BfdPacket } | { ok: false; error: BfdDecodeError };

export function decodeBfd(buf: Uint8Array): BfdDecoded {
  if (buf.length < BFD_HEADER_LENGTH) return { ok: false, error: "short" };
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const b0 = v.getUint8(0);
  const b1 = v.getUint8(1);
  const version = b0 >> 5;
  if (version !== 1) return { ok: false, error: "version" };
  const authPresent = (b1 & 0x04) !== 0;
  const length = v.getUint8(3);
  if (length < (authPresent ? 26 : 24) || length > buf.length) return { ok: false, error: "length" };
  const detectMult = v.getUint8(2);
  if (detectMult === 0) return { ok: false, error: "detect-mult-zero" };
  const multipoint = (b1 & 0x01) !== 0;
  if (multipoint) return { ok: false, error: "multipoint" };
  const myDiscriminator = v.getUint32(4);
  if (myDiscriminator === 0) return { ok: false, error: "my-discriminator-zero" };
  return {
    ok: true,
    packet: {
      version,
      diag: BFD_DIAGS[b0 & 0x1f] ?? "none",
      state: BFD_STATES[b1 >> 6]!,
      poll: (b1 & 0x20) !== 0,
      final: (b1 & 0x10) !== 0,
      controlPlaneIndependent: (b1 & 0x08) !== 0,
      authPresent,
      demand: (b1 & 0x02) !== 0,
      multipoint,
      detectMult,
      myDiscriminator,
      yourDiscriminator: v.getUint32(8),
      desiredMinTxInterval: v.getUint32(12),
      requiredMinRxInterval: v.getUint32(16),
      requiredMinEchoRxInterval: v.getUint32(20),
    },
  };
}

/** The 24-byte mandatory section; `authPresent` and `multipoint` are always encoded as given. */
export function encodeBfd(p: BfdPacket): Uint8Array {
  const buf = new Uint8Array(BFD_HEADER_LENGTH);
  const v = new DataView(buf.buffer);
  v.setUint8(0, ((p.version & 0x7) << 5) | (BFD_DIAGS.indexOf(p.diag) & 0x1f));
  v.setUint8(
    1,
    (BFD_STATES.indexOf(p.state) << 6) |
      (p.poll ? 0x20 : 0) |
      (p.final ? 0x10 : 0) |
      (p.controlPlaneIndependent ? 0x08 : 0) |
      (p.authPresent ? 0x04 : 0) |
      (p.demand ? 0x02 : 0) |
      (p.multipoint ? 0x01 : 0),
  );
  v.setUint8(2, p.detectMult);
  v.setUint8(3, BFD_HEADER_LENGTH);
  v.setUint32(4, p.myDiscriminator >>> 0);
  v.setUint32(8, p.yourDiscriminator >>> 0);
  v.setUint32(12, p.desiredMinTxInterval >>> 0);
  v.setUint32(16, p.requiredMinRxInterval >>> 0);
  v.setUint32(20, p.requiredMinEchoRxInterval >>> 0);
  return buf;
}
