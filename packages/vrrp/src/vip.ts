/**
 * Moving the VIPs: the pluggable `VipMover` — netlink by default; a cloud API can implement it to move a floating
 * IP — and an in-memory one for tests and the UDP demo.
 */
import { getInterface } from "@lbkit/arp";
import { moduleExports } from "@lbkit/core";
import { installAcceptFilter, removeAcceptFilter } from "./accept-filter.js";
import { addressToBytes } from "./address.js";
import type { VirtualAddress } from "./config.js";
import { asVrrpError, VrrpError } from "./errors.js";

export interface VipContext {
  /** the interface the VIPs live on (the VMAC interface when VMAC is on) */
  interface: string;
  vrid: number;
  /** the interface's index when already known (saves a lookup) */
  ifindex?: number;
  /** on `add`: false = RFC 5798 Accept_Mode off (a non-owner master must drop traffic to the VIPs) */
  acceptMode?: boolean;
}

/** Puts the VIPs on this node and takes them off. `add`/`remove` must be idempotent. */
export interface VipMover {
  /** optional: open sockets / resolve the interface at start, so the first takeover is not slowed by it */
  prepare?(ctx: VipContext): Promise<void>;
  add(vips: readonly VirtualAddress[], ctx: VipContext): Promise<void>;
  remove(vips: readonly VirtualAddress[], ctx: VipContext): Promise<void>;
}

export interface NetlinkVipMoverOptions {
  /** IPv4 address label (keepalived `label`); must start with the interface name. Default "<ifname>:vrrp<vrid>" when it fits in 15 bytes. */
  label?: string;
}

interface RtSocket {
  newAddress(data: object, attrs: object, options?: object): Promise<unknown>;
  delAddress(data: object, attrs: object): Promise<unknown>;
  socket: { close?(): void };
}

/**
 * The default mover: RTM_NEWADDR / RTM_DELADDR over rtnetlink (`ip addr add/del`), IPv6 with nodad. Its netlink
 * socket opens on first use and closes on `stop()` (an instance stops the mover it made, never one passed in).
 */
export class NetlinkVipMover implements VipMover {
  private rt: RtSocket | undefined;
  private readonly ifindexes = new Map<string, number>();

  constructor(private readonly o: NetlinkVipMoverOptions = {}) {}

  async prepare(ctx: VipContext): Promise<void> {
    await this.socket();
    await this.ifindex(ctx);
  }

  async add(vips: readonly VirtualAddress[], ctx: VipContext): Promise<void> {
    if (ctx.acceptMode === false) await installAcceptFilter(ctx.vrid, vips);
    for (const v of vips) await this.request("add", v, ctx);
  }

  async remove(vips: readonly VirtualAddress[], ctx: VipContext): Promise<void> {
    const errors: unknown[] = [];
    // remove every VIP even when one fails, then report
    for (const v of vips) await this.request("remove", v, ctx).catch((e: unknown) => errors.push(e));
    await removeAcceptFilter(ctx.vrid);
    if (errors.length) throw errors[0];
  }

  /** Closes the netlink socket (reopened on the next use). */
  async stop(): Promise<void> {
    this.rt?.socket.close?.();
    this.rt = undefined;
    this.ifindexes.clear();
  }

  private async socket(): Promise<RtSocket> {
    if (!this.rt) {
      const lib = moduleExports(await import("netlink"));
      this.rt = lib.createRtNetlink() as unknown as RtSocket;
    }
    return this.rt;
  }

  private async ifindex({ interface: ifname, ifindex }: VipContext): Promise<number> {
    if (ifindex !== undefined) return ifindex;
    const known = this.ifindexes.get(ifname);
    if (known) return known;
    const link = await getInterface(ifname).catch((e: unknown) => {
      throw asVrrpError("ERR_VIP", `interface ${ifname} for the VIPs`, e);
    });
    this.ifindexes.set(ifname, link.ifindex);
    return link.ifindex;
  }

  private async request(op: "add" | "remove", v: VirtualAddress, ctx: VipContext): Promise<void> {
    const s = await this.socket();
    const index = await this.ifindex(ctx);
    const bytes = Buffer.from(addressToBytes(v.address));
    const label = this.o.label ?? `${ctx.interface}:vrrp${ctx.vrid}`;
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
        "ERR_VIP",
        `vrrp: ${op === "add" ? "adding" : "removing"} VIP ${v.address}/${v.prefixLength} on ${ctx.interface} failed: ${msg}`,
        { cause: e },
      );
    }
  }
}

/** A mover that only records who holds the VIPs: for tests, the in-memory segment and the UDP loopback demo. */
export class MemoryVipMover implements VipMover {
  /** "address/prefix" of every VIP held */
  readonly held = new Set<string>();

  async add(vips: readonly VirtualAddress[]): Promise<void> {
    for (const v of vips) this.held.add(`${v.address}/${v.prefixLength}`);
  }

  async remove(vips: readonly VirtualAddress[]): Promise<void> {
    for (const v of vips) this.held.delete(`${v.address}/${v.prefixLength}`);
  }
}
