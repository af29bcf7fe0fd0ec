/**
 * Moving the VIPs: the pluggable `VipMover` (netlink by default; a cloud API can implement it to move a floating
 * IP), the `Announcer` that makes the segment learn the new holder (gratuitous ARP / unsolicited NA), and the
 * optional VMAC (macvlan 00:00:5e:00:01:VRID) through a thin `ip link` adapter.
 */
import { execFile } from "node:child_process";
import { LinkAnnouncer, loadNative } from "@lbkit/arp";
import { installAcceptFilter, removeAcceptFilter } from "./accept-filter.js";
import { addressToBytes } from "./address.js";
import type { VirtualAddress } from "./config.js";
import { VrrpError } from "./errors.js";

export interface VipContext {
  /** the interface the VIPs live on (the VMAC interface when VMAC is on) */
  interface: string;
  vrid: number;
  /** on `add`: false = RFC 5798 Accept_Mode off (a non-owner master must drop traffic to the VIPs) */
  acceptMode?: boolean;
}

/** Puts the VIPs on this node and takes them off. `add`/`remove` must be idempotent. */
export interface VipMover {
  /** optional: open sockets / resolve the interface at start, so the first takeover is not slowed by it */
  prepare?(ctx: VipContext): Promise<void>;
  add(vips: readonly VirtualAddress[], ctx: VipContext): Promise<void>;
  remove(vips: readonly VirtualAddress[], ctx: VipContext): Promise<void>;
  close?(): Promise<void>;
}

/** Tells the segment who holds the VIPs now: one burst of `count` per VIP (the instance schedules delay/refresh). */
export interface Announcer {
  /** optional: load and resolve what the first announcement needs, at start */
  prepare?(ctx: VipContext): Promise<void>;
  announce(vips: readonly VirtualAddress[], ctx: VipContext, count: number): Promise<void>;
  /** optional: release what prepare/announce opened (the instance calls it at stop) */
  close?(): void;
}

/**
 * The default announcer: gratuitous ARP (IPv4) / unsolicited NA (IPv6) through @lbkit/arp's `LinkAnnouncer`,
 * one AF_PACKET socket per interface held from the first burst (or `prepare`) until `close()`: opening and
 * closing a packet socket per burst costs milliseconds of kernel time on the JS thread. Dropped on error.
 */
export function createArpAnnouncer(o: { mac?: string } = {}): Announcer {
  const links = new Map<string, Promise<LinkAnnouncer>>();
  const link = (name: string): Promise<LinkAnnouncer> => {
    let l = links.get(name);
    if (!l) {
      l = LinkAnnouncer.open(name);
      links.set(name, l);
      l.catch(() => links.delete(name));
    }
    return l;
  };
  const drop = (name: string) => {
    const l = links.get(name);
    links.delete(name);
    void l?.then((x) => x.close()).catch(() => undefined);
  };
  return {
    async prepare(ctx) {
      loadNative();
      await link(ctx.interface);
    },
    async announce(vips, ctx, count) {
      try {
        (await link(ctx.interface)).announce(
          vips.map((v) => v.address),
          { count, mac: o.mac },
        );
      } catch (e) {
        drop(ctx.interface);
        throw e;
      }
    },
    close() {
      for (const name of [...links.keys()]) drop(name);
    },
  };
}

export interface NetlinkVipMoverOptions {
  /** IPv4 address label (keepalived `label`); must start with the interface name. Default "<ifname>:vrrp<vrid>" when it fits in 15 bytes. */
  label?: string;
}

interface RtSocket {
  getLinks(): Promise<{ data: { index?: number }; attrs: { ifname?: string } }[]>;
  newAddress(data: object, attrs: object, options?: object): Promise<unknown>;
  delAddress(data: object, attrs: object): Promise<unknown>;
  socket: { close?(): void };
}

/** The default mover: RTM_NEWADDR / RTM_DELADDR over rtnetlink (`ip addr add/del`), IPv6 with nodad. */
export function createNetlinkVipMover(o: NetlinkVipMoverOptions = {}): VipMover {
  let rt: RtSocket | undefined;
  const ifindexes = new Map<string, number>();
  const socket = async (): Promise<RtSocket> => {
    if (!rt) {
      const nl = await import("netlink");
      const lib = ("default" in nl ? nl.default : nl) as typeof import("netlink");
      rt = lib.createRtNetlink() as unknown as RtSocket;
    }
    return rt;
  };
  const ifindex = async (s: RtSocket, ifname: string): Promise<number> => {
    const known = ifindexes.get(ifname);
    if (known) return known;
    const link = (await s.getLinks()).find((l) => l.attrs.ifname === ifname);
    if (!link?.data.index) throw new VrrpError(`vrrp: interface ${ifname} not found for the VIPs`);
    ifindexes.set(ifname, link.data.index);
    return link.data.index;
  };
  const request = async (op: "add" | "remove", v: VirtualAddress, ctx: VipContext): Promise<void> => {
    const s = await socket();
    const index = await ifindex(s, ctx.interface);
    const bytes = Buffer.from(addressToBytes(v.address));
    const label = o.label ?? `${ctx.interface}:vrrp${ctx.vrid}`;
    const data = { family: v.family === 4 ? 2 : 10, prefixlen: v.prefixLength, index, scope: 0 };
    const attrs: Record<string, unknown> = { local: bytes, address: bytes };
    if (v.family === 4 && Buffer.byteLength(label) <= 15) attrs.label = label;
    if (v.family === 6) {
      attrs.flags = { nodad: true };
      // preferred lifetime 0 (deprecated): the kernel never picks an IPv6 VIP as the source of this node's own
      // packets, VRRP adverts to unicast peers included; the VIP still receives traffic
      attrs.cacheInfo = { ifaPrefered: 0, ifaValid: 0xffffffff, cstamp: 0, tstamp: 0 };
    }
    try {
      if (op === "add") await s.newAddress(data, attrs, { flags: { create: true, replace: true } });
      else await s.delAddress(data, { local: bytes, address: bytes });
    } catch (e) {
      const code = (e as { code?: string; errno?: number }).code ?? "";
      const msg = (e as Error).message;
      // idempotence: already there on add, already gone on remove
      if (op === "add" && /EEXIST|exists/i.test(`${code} ${msg}`)) return;
      if (op === "remove" && /EADDRNOTAVAIL|ENOENT|ENODEV|not available|no such/i.test(`${code} ${msg}`))
        return;
      throw new VrrpError(
        `vrrp: ${op === "add" ? "adding" : "removing"} VIP ${v.address}/${v.prefixLength} on ${ctx.interface} failed: ${msg}`,
        { cause: e },
      );
    }
  };
  return {
    async prepare(ctx) {
      await ifindex(await socket(), ctx.interface);
    },
    async add(vips, ctx) {
      if (ctx.acceptMode === false) await installAcceptFilter(ctx.vrid, vips);
      for (const v of vips) await request("add", v, ctx);
    },
    async remove(vips, ctx) {
      const errors: unknown[] = [];
      // remove every VIP even when one fails, then report
      for (const v of vips) await request("remove", v, ctx).catch((e: unknown) => errors.push(e));
      await removeAcceptFilter(ctx.vrid);
      if (errors.length) throw errors[0];
    },
    async close() {
      rt?.socket.close?.();
      rt = undefined;
    },
  };
}

/** A mover that only records who holds the VIPs: for the UDP loopback transport and demos. */
export function createMemoryVipMover(): VipMover & { held: ReadonlySet<string> } {
  const held = new Set<string>();
  return {
    held,
    async add(vips) {
      for (const v of vips) held.add(`${v.address}/${v.prefixLength}`);
    },
    async remove(vips) {
      for (const v of vips) held.delete(`${v.address}/${v.prefixLength}`);
    },
  };
}

/** RFC 5798 §7.3 virtual router MAC: 00:00:5e:00:01:VRID (IPv4), 00:00:5e:00:02:VRID (IPv6). */
export function virtualMac(vrid: number, family: 4 | 6 = 4): string {
  return `00:00:5e:00:0${family === 4 ? 1 : 2}:${vrid.toString(16).padStart(2, "0")}`;
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("ip", args, { timeout: 5000 }, (e, _out, stderr) =>
      e
        ? reject(
            new VrrpError(`vrrp: ip ${args.join(" ")} failed: ${stderr.trim() || e.message}`, { cause: e }),
          )
        : resolve(),
    );
  });
}

export interface VmacOptions {
  /** the parent interface, e.g. "eth0" */
  parent: string;
  vrid: number;
  family?: 4 | 6;
  /** the macvlan's name; default "vrrp.<vrid>" (keepalived's naming) */
  name?: string;
}

/**
 * Creates the VMAC interface (macvlan, mode private, the virtual router MAC) with the `ip` command: the netlink
 * package has no typed link-creation for macvlan, so this is a thin adapter over iproute2. Returns its name and
 * a remover. The VIPs then go on that interface; adverts still leave from the parent.
 */
export async function createVmac(
  o: VmacOptions,
): Promise<{ name: string; mac: string; remove(): Promise<void> }> {
  const name = o.name ?? `vrrp.${o.vrid}`;
  const mac = virtualMac(o.vrid, o.family ?? 4);
  // a crashed earlier run may have left it behind
  await ip(["link", "del", name]).catch(() => undefined);
  await ip([
    "link",
    "add",
    "link",
    o.parent,
    "name",
    name,
    "address",
    mac,
    "type",
    "macvlan",
    "mode",
    "private",
  ]);
  await ip(["link", "set", name, "up"]);
  return { name, mac, remove: () => ip(["link", "del", name]).catch(() => undefined) };
}
