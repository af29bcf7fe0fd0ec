/**
 * Pure: the generic-netlink framing the IPVS shell needs besides `encodeIpvs` — the controller request that
 * resolves a family name to its id (CTRL_CMD_GETFAMILY), and the decoding of what the kernel answers: netlink
 * messages split out of a datagram, a family id out of a CTRL_CMD_NEWFAMILY reply, the errno of an NLMSG_ERROR
 * (0 = the acknowledgement NLM_F_ACK asked for). Layouts from linux/netlink.h and linux/genetlink.h, host order.
 */
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** linux/netlink.h `NETLINK_GENERIC`: the protocol of the socket the IPVS family is reached through */
export const NETLINK_GENERIC = 16;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const GENL_ID_CTRL = 16;
const CTRL_CMD_NEWFAMILY = 1;
const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_ID = 1;
const CTRL_ATTR_FAMILY_NAME = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;

/** One netlink message as received: its header fields and what follows the 16-byte header. */
export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}

/** `CTRL_CMD_GETFAMILY` for `name` (NLM_F_REQUEST | NLM_F_ACK), addressed to the controller (GENL_ID_CTRL). */
export function encodeGetFamily(name: string, seq: number, pid = 0): Uint8Array {
  const text = new TextEncoder().encode(`${name}\0`);
  const attrLen = 4 + text.length;
  const len = 16 + 4 + ((attrLen + 3) & ~3);
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  v.setUint32(0, len, LE);
  v.setUint16(4, GENL_ID_CTRL, LE);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_ACK, LE);
  v.setUint32(8, seq >>> 0, LE);
  v.setUint32(12, pid >>> 0, LE);
  out.set([CTRL_CMD_GETFAMILY, 1, 0, 0], 16); // genlmsghdr: cmd, version, reserved
  v.setUint16(20, attrLen, LE);
  v.setUint16(22, CTRL_ATTR_FAMILY_NAME, LE);
  out.set(text, 24);
  return out;
}

/** The netlink messages of one datagram; a truncated or malformed header ends the list (nothing is invented). */
export function decodeNetlink(bytes: Uint8Array): NetlinkMessage[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NetlinkMessage[] = [];
  for (let at = 0; at + 16 <= bytes.length; ) {
    const len = v.getUint32(at, LE);
    if (len < 16 || at + len > bytes.length) break;
    out.push({
      type: v.getUint16(at + 4, LE),
      flags: v.getUint16(at + 6, LE),
      seq: v.getUint32(at + 8, LE),
      pid: v.getUint32(at + 12, LE),
      payload: bytes.subarray(at + 16, at + len),
    });
    at += (len + 3) & ~3;
  }
  return out;
}

/** Whether `m` ends the answer to a request: an NLMSG_ERROR (error or acknowledgement) or NLMSG_DONE. */
export function endsAnswer(m: NetlinkMessage): boolean {
  return m.type === NLMSG_ERROR || m.type === NLMSG_DONE;
}

/**
 * The errno an NLMSG_ERROR carries, positive (`ENOENT` = 2), 0 for an acknowledgement; undefined when `m` is
 * another message.
 */
export function ackErrno(m: NetlinkMessage): number | undefined {
  if (m.type !== NLMSG_ERROR || m.payload.length < 4) return undefined;
  const error = new DataView(m.payload.buffer, m.payload.byteOffset, 4).getInt32(0, LE);
  return error === 0 ? 0 : -error;
}

/** The family id of a CTRL_CMD_NEWFAMILY reply (the answer to `encodeGetFamily`); undefined for anything else. */
export function familyIdOf(m: NetlinkMessage): number | undefined {
  const p = m.payload;
  if (m.type !== GENL_ID_CTRL || p.length < 4 || p[0] !== CTRL_CMD_NEWFAMILY) return undefined;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  for (let at = 4; at + 4 <= p.length; ) {
    const len = v.getUint16(at, LE);
    if (len < 4 || at + len > p.length) return undefined;
    if ((v.getUint16(at + 2, LE) & 0x3fff) === CTRL_ATTR_FAMILY_ID && len >= 6)
      return v.getUint16(at + 4, LE);
    at += (len + 3) & ~3;
  }
  return undefined;
}
