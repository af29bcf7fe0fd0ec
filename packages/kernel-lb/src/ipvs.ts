/**
 * Pure: the IPVS backend's wire format — generic-netlink messages of the kernel's "IPVS" family (linux/ip_vs.h),
 * as keepalived and ipvsadm send them, and the diff from one `ServiceTable` to the next as IPVS commands.
 *
 * This is the codec half of the IPVS backend (`IpvsDirector`, the shell, sends these one request at a time over a
 * NETLINK_GENERIC socket): the same tables as the nftables path, another data path — IPVS keeps per-connection
 * state, so DR keeps established flows across changes.
 *
 * Layout: nlmsghdr (len u32, type u16 = the family id, flags u16, seq u32, pid u32), genlmsghdr (cmd u8, version
 * u8 = 1, reserved u16), then attributes (len u16, type u16, payload padded to 4 bytes), IPVS_CMD_ATTR_SERVICE and
 * IPVS_CMD_ATTR_DEST nested (NLA_F_NESTED). Integers are in host order except ports and the IPv4 netmask, which the
 * kernel reads as big-endian (`nla_get_be16`, `nla_get_be32`); addresses are `union nf_inet_addr` (16 bytes).
 */
import { parseIp } from "@lbkit/core";
import { KernelLbError } from "./errors.js";
import type { ServiceTable } from "./table.js";

/** linux/ip_vs.h `enum IPVS_CMD_*` */
export const IPVS_CMD = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  FLUSH: 17,
} as const;

const CMD_ATTR_SERVICE = 1;
const CMD_ATTR_DEST = 2;
const SVC = { AF: 1, PROTOCOL: 2, ADDR: 3, PORT: 4, SCHED_NAME: 6, FLAGS: 7, TIMEOUT: 8, NETMASK: 9 };
const DEST = { ADDR: 1, PORT: 2, FWD_METHOD: 3, WEIGHT: 4, U_THRESH: 5, L_THRESH: 6, ADDR_FAMILY: 11 };
const NLA_F_NESTED = 0x8000;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const AF_INET = 2;
const AF_INET6 = 10;
const PROTO = { tcp: 6, udp: 17 } as const;
/** linux/ip_vs.h `IP_VS_CONN_F_MASQ` / `_TUNNEL` / `_DROUTE` */
export const IPVS_FWD = { nat: 0, tunnel: 2, dr: 3 } as const;
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1; // host order, as the kernel reads NLA_U16/U32

/** What identifies an IPVS virtual service (a fwmark service is not used by lbkit). */
export interface IpvsServiceKey {
  address: string;
  port: number;
  protocol: "tcp" | "udp";
}

/** A virtual service as `IPVS_CMD_NEW_SERVICE` / `SET_SERVICE` carry it. */
export interface IpvsService extends IpvsServiceKey {
  /** the kernel scheduler module: "rr", "wrr", "sh", "mh", "wlc"… (at most 15 characters) */
  scheduler: string;
  /** persistence timeout in seconds (keepalived `persistence_timeout`); 0 = none */
  timeout?: number;
}

/** A real server (IPVS destination) as `IPVS_CMD_NEW_DEST` / `SET_DEST` carry it. */
export interface IpvsDest {
  address: string;
  port: number;
  forward: keyof typeof IPVS_FWD;
  weight: number;
}

/** One IPVS request: the command and the attributes it needs. */
export type IpvsCommand =
  | { cmd: "NEW_SERVICE" | "SET_SERVICE"; service: IpvsService }
  | { cmd: "DEL_SERVICE"; service: IpvsServiceKey }
  | { cmd: "NEW_DEST" | "SET_DEST"; service: IpvsServiceKey; dest: IpvsDest }
  | { cmd: "DEL_DEST"; service: IpvsServiceKey; dest: Pick<IpvsDest, "address" | "port"> };

function attr(type: number, payload: Uint8Array): Uint8Array {
  const len = 4 + payload.length;
  const out = new Uint8Array((len + 3) & ~3);
  const v = new DataView(out.buffer);
  v.setUint16(0, len, LE);
  v.setUint16(2, type, LE);
  out.set(payload, 4);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function int(bytes: 2 | 4, value: number, little = LE): Uint8Array {
  const out = new Uint8Array(bytes);
  const v = new DataView(out.buffer);
  if (bytes === 2) v.setUint16(0, value, little);
  else v.setUint32(0, value >>> 0, little);
  return out;
}

function address(text: string): { af: number; bytes: Uint8Array } {
  const ip = parseIp(text);
  if (!ip)
    throw new KernelLbError(
      "ERR_MEMBER",
      `kernel-lb: IPVS address ${JSON.stringify(text)} is not an IP address`,
    );
  const bytes = new Uint8Array(16); // union nf_inet_addr
  bytes.set(ip.bytes);
  return { af: ip.family === 4 ? AF_INET : AF_INET6, bytes };
}

function serviceAttr(s: IpvsServiceKey | IpvsService): Uint8Array {
  const a = address(s.address);
  const parts = [
    attr(SVC.AF, int(2, a.af)),
    attr(SVC.PROTOCOL, int(2, PROTO[s.protocol])),
    attr(SVC.ADDR, a.bytes),
    attr(SVC.PORT, int(2, s.port, false)),
  ];
  if ("scheduler" in s) {
    if (!/^[a-z0-9_]{1,15}$/.test(s.scheduler))
      throw new KernelLbError(
        "ERR_MEMBER",
        `kernel-lb: IPVS scheduler ${JSON.stringify(s.scheduler)} is not a module name`,
      );
    const flags = new Uint8Array(8); // struct ip_vs_flags { flags = 0, mask = ~0 }
    flags.set(int(4, 0xffffffff), 4);
    parts.push(
      attr(SVC.SCHED_NAME, new TextEncoder().encode(`${s.scheduler}\0`)),
      attr(SVC.FLAGS, flags),
      attr(SVC.TIMEOUT, int(4, s.timeout ?? 0)),
      // IPv4: a netmask (big-endian); IPv6: a prefix length
      attr(SVC.NETMASK, a.af === AF_INET ? int(4, 0xffffffff, false) : int(4, 128)),
    );
  }
  return attr(CMD_ATTR_SERVICE | NLA_F_NESTED, concat(parts));
}

function destAttr(d: IpvsDest | Pick<IpvsDest, "address" | "port">): Uint8Array {
  const a = address(d.address);
  const parts = [attr(DEST.ADDR, a.bytes), attr(DEST.PORT, int(2, d.port, false))];
  if ("forward" in d)
    parts.push(
      attr(DEST.FWD_METHOD, int(4, IPVS_FWD[d.forward])),
      attr(DEST.WEIGHT, int(4, d.weight)),
      attr(DEST.U_THRESH, int(4, 0)),
      attr(DEST.L_THRESH, int(4, 0)),
    );
  parts.push(attr(DEST.ADDR_FAMILY, int(2, a.af)));
  return attr(CMD_ATTR_DEST | NLA_F_NESTED, concat(parts));
}

/** One request (NLM_F_REQUEST | NLM_F_ACK) for the IPVS generic-netlink family whose id the kernel gave. */
export function encodeIpvs(c: IpvsCommand, familyId: number, seq: number, pid = 0): Uint8Array {
  const attrs = [serviceAttr(c.service)];
  if ("dest" in c) attrs.push(destAttr(c.dest));
  const body = concat([new Uint8Array([IPVS_CMD[c.cmd], 1, 0, 0]), ...attrs]);
  const head = new Uint8Array(16);
  const v = new DataView(head.buffer);
  v.setUint32(0, 16 + body.length, LE);
  v.setUint16(4, familyId, LE);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_ACK, LE);
  v.setUint32(8, seq >>> 0, LE);
  v.setUint32(12, pid >>> 0, LE);
  return concat([head, body]);
}

function keyOf(s: ServiceTable): IpvsServiceKey {
  return { address: s.vip, port: s.port, protocol: s.protocol };
}

/**
 * The IPVS commands turning service `prev` into `next` (either may be undefined). Every target is a destination
 * with its weight (IPVS schedules by weight itself; `scheduler` names the kernel module); a target that leaves is
 * deleted, as keepalived does without `inhibit_on_failure`.
 */
export function ipvsCommands(
  prev: ServiceTable | undefined,
  next: ServiceTable | undefined,
  scheduler: string,
): IpvsCommand[] {
  const out: IpvsCommand[] = [];
  const dests = (s: ServiceTable | undefined) =>
    new Map(
      (s ? (s.sorry ? [s.sorry] : s.targets) : []).map((t) => [
        `${t.address} ${t.port}`,
        { address: t.address, port: t.port, forward: s!.kind, weight: s!.sorry ? 1 : t.weight } as IpvsDest,
      ]),
    );
  const samePlace = prev && next && JSON.stringify(keyOf(prev)) === JSON.stringify(keyOf(next));
  if (prev && !samePlace)
    return [{ cmd: "DEL_SERVICE", service: keyOf(prev) }, ...ipvsCommands(undefined, next, scheduler)];
  if (!next) return out;
  const service = keyOf(next);
  if (!prev) out.push({ cmd: "NEW_SERVICE", service: { ...service, scheduler } });
  const before = dests(prev);
  for (const [k, d] of dests(next)) {
    const was = before.get(k);
    if (!was) out.push({ cmd: "NEW_DEST", service, dest: d });
    else if (was.weight !== d.weight || was.forward !== d.forward)
      out.push({ cmd: "SET_DEST", service, dest: d });
    before.delete(k);
  }
  for (const d of before.values())
    out.push({ cmd: "DEL_DEST", service, dest: { address: d.address, port: d.port } });
  return out;
}
