/**
 * Where an instance's VIPs live: which of them it manages (an address owner never adds or removes its own
 * interface addresses), the optional VMAC, and the mover that adds and removes them. Started with the instance
 * (stale VIPs of a crashed run removed), stopped with it (VIPs removed, what it created released).
 */
import { getInterface, type InterfaceInfo } from "@lbkit/arp";
import type { VirtualAddress, VrrpConfig } from "./config.js";
import { asVrrpError } from "./errors.js";
import { NetlinkVipMover, type VipContext, type VipMover } from "./vip.js";
import { createVmac, type Vmac } from "./vmac.js";

export interface VipHostOptions {
  config: VrrpConfig;
  interface: string | undefined;
  /** given by the caller (never stopped here), or undefined for the netlink mover this host owns */
  mover: VipMover | undefined;
  vmac: boolean | { name?: string } | undefined;
}

export class VipHost {
  /** the VIPs this instance adds and removes (all, except an address owner's own addresses) */
  managed: VirtualAddress[];
  private vmac: Vmac | undefined;
  private ifindex: number | undefined;
  readonly mover: VipMover;
  private readonly owned: NetlinkVipMover | undefined;

  constructor(private readonly o: VipHostOptions) {
    this.managed = o.config.virtualAddresses;
    this.owned = o.mover ? undefined : new NetlinkVipMover();
    this.mover = o.mover ?? this.owned!;
  }

  /** the interface the VIPs are on (the VMAC interface when VMAC is on) */
  get interface(): string {
    return this.vmac?.name ?? this.o.interface ?? "";
  }

  context(acceptMode?: boolean): VipContext {
    return {
      interface: this.interface,
      vrid: this.o.config.vrid,
      ...(acceptMode === undefined ? {} : { acceptMode }),
    };
  }

  /**
   * Finds the owner's own addresses (in `link`, the interface as read at start) and creates the VMAC; a failure
   * here fails the instance's start.
   */
  async start(link: InterfaceInfo | undefined): Promise<void> {
    const { config } = this.o;
    this.managed = config.virtualAddresses;
    this.ifindex = link?.ifindex;
    if (config.priority === 255 && link) {
      const present = new Set((link.addresses ?? []).map((a) => a.address));
      this.managed = config.virtualAddresses.filter((v) => !present.has(v.address));
    }
    if (this.o.vmac) {
      const name = typeof this.o.vmac === "object" ? this.o.vmac.name : undefined;
      this.vmac = await createVmac({ parent: this.o.interface!, vrid: config.vrid, name });
    }
  }

  /** Opens what the first takeover needs, then removes VIPs a crashed earlier run left (a backup must not hold them). */
  async prepare(): Promise<void> {
    await this.mover.prepare?.(this.context());
    await this.mover.remove(this.managed, this.context());
  }

  add(acceptMode: boolean): Promise<void> {
    return this.mover.add(this.managed, this.context(acceptMode));
  }

  remove(): Promise<void> {
    return this.mover.remove(this.managed, this.context());
  }

  /** Releases the VMAC and the mover this host created. The VIPs are removed by the caller first. */
  async stop(): Promise<void> {
    await this.owned?.stop();
    await this.vmac?.remove();
    this.vmac = undefined;
  }
}

/** The instance's interface read once at start (index, MAC, flags, addresses); undefined without one. */
export function readInterface(ifname: string | undefined): Promise<InterfaceInfo | undefined> {
  if (!ifname) return Promise.resolve(undefined);
  return getInterface(ifname, { addresses: true }).catch((e: unknown) => {
    throw asVrrpError("ERR_INTERFACE", `interface ${ifname}`, e);
  });
}
