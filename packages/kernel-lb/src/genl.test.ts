import { describe, expect, it } from "vitest";
import { ackErrno, decodeNetlink, encodeGetFamily, endsAnswer, familyIdOf } from "./genl.js";

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** u16/u32 in host order as bytes, for the hand-written vectors below */
const u16 = (n: number) => (LE ? [n & 0xff, n >> 8] : [n >> 8, n & 0xff]);
const u32 = (n: number) => {
  const b = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
  return LE ? b : b.reverse();
};
const header = (len: number, type: number, flags: number, seq: number, pid: number) => [
  ...u32(len),
  ...u16(type),
  ...u16(flags),
  ...u32(seq),
  ...u32(pid),
];

describe("generic-netlink framing", () => {
  it("encodes CTRL_CMD_GETFAMILY for IPVS as genl-ctrl requests it", () => {
    // nlmsghdr 16 + genlmsghdr 4 + attr (4 + "IPVS\0" = 9, padded to 12) = 32
    expect([...encodeGetFamily("IPVS", 7)]).toEqual([
      ...header(32, 16, 0x5, 7, 0),
      3,
      1,
      0,
      0, // CTRL_CMD_GETFAMILY, version 1
      ...u16(9),
      ...u16(2),
      0x49,
      0x50,
      0x56,
      0x53,
      0,
      0,
      0,
      0, // CTRL_ATTR_FAMILY_NAME "IPVS\0" + pad
    ]);
  });

  it("decodes a NEWFAMILY reply followed by its acknowledgement in one datagram", () => {
    const reply = [
      ...header(40, 16, 0, 7, 1234),
      1,
      2,
      0,
      0, // CTRL_CMD_NEWFAMILY
      ...u16(9),
      ...u16(2),
      0x49,
      0x50,
      0x56,
      0x53,
      0,
      0,
      0,
      0, // FAMILY_NAME
      ...u16(6),
      ...u16(1),
      ...u16(0x1d),
      0,
      0, // FAMILY_ID 29 + pad
    ];
    const ack = [...header(36, 2, 0x100, 7, 1234), ...u32(0), ...header(32, 16, 0x5, 7, 0)];
    const msgs = decodeNetlink(new Uint8Array([...reply, ...ack]));
    expect(msgs.map((m) => [m.type, m.seq, m.pid])).toEqual([
      [16, 7, 1234],
      [2, 7, 1234],
    ]);
    expect(familyIdOf(msgs[0]!)).toBe(29);
    expect(endsAnswer(msgs[0]!)).toBe(false);
    expect(familyIdOf(msgs[1]!)).toBeUndefined();
    expect(ackErrno(msgs[1]!)).toBe(0);
    expect(endsAnswer(msgs[1]!)).toBe(true);
  });

  it("reads the errno of an NLMSG_ERROR: ENOENT for an unknown family, ESRCH, EEXIST", () => {
    for (const errno of [2, 3, 17]) {
      const [m] = decodeNetlink(
        new Uint8Array([...header(36, 2, 0, 9, 0), ...u32(-errno >>> 0), ...header(32, 16, 5, 9, 0)]),
      );
      expect(ackErrno(m!)).toBe(errno);
      expect(familyIdOf(m!)).toBeUndefined();
    }
  });

  it("stops at a truncated or nonsensical header instead of inventing messages", () => {
    expect(decodeNetlink(new Uint8Array(header(36, 2, 0, 1, 0)))).toEqual([]); // says 36, has 16
    expect(decodeNetlink(new Uint8Array(header(8, 2, 0, 1, 0)))).toEqual([]); // shorter than a header
    expect(decodeNetlink(new Uint8Array(10))).toEqual([]);
    const bad = decodeNetlink(
      new Uint8Array([...header(24, 16, 0, 1, 0), 1, 2, 0, 0, ...u16(40), ...u16(1)]),
    );
    expect(familyIdOf(bad[0]!)).toBeUndefined(); // an attribute longer than the message
  });
});
