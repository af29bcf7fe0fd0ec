/**
 * keepalived `use_vmac`: a macvlan carrying the virtual router MAC 00:00:5e:00:01:VRID, through a thin `ip link`
 * adapter (the netlink package has no typed link creation for macvlan), and the ARP sysctls it needs.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { VrrpError } from "./errors.js";

/** RFC 5798 §7.3 virtual router MAC: 00:00:5e:00:01:VRID (IPv4), 00:00:5e:00:02:VRID (IPv6). */
export function virtualMac(vrid: number, family: 4 | 6 = 4): string {
  return `00:00:5e:00:0${family === 4 ? 1 : 2}:${vrid.toString(16).padStart(2, "0")}`;
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("ip", args, { timeout: 5000 }, (e, _out, stderr) =>
      e
        ? reject(
            new VrrpError("ERR_VIP", `vrrp: ip ${args.join(" ")} failed: ${stderr.trim() || e.message}`, {
              cause: e,
            }),
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

export interface Vmac {
  name: string;
  mac: string;
  remove(): Promise<void>;
}

/**
 * Creates the VMAC interface (macvlan, mode private, the virtual router MAC) and sets arp_ignore=1 on it and its
 * parent (only the VMAC interface answers ARP for the VIP) and arp_announce=2 (this node's own ARP requests carry
 * the interface address, not the VIP, which would re-point neighbours at the parent's MAC). The VIPs then go on
 * the VMAC interface; adverts still leave from the parent.
 */
export async function createVmac(o: VmacOptions): Promise<Vmac> {
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
  const remove = () => ip(["link", "del", name]).catch(() => undefined);
  try {
    await ip(["link", "set", name, "up"]);
    for (const ifname of [o.parent, name]) {
      await writeFile(`/proc/sys/net/ipv4/conf/${ifname}/arp_ignore`, "1");
      await writeFile(`/proc/sys/net/ipv4/conf/${ifname}/arp_announce`, "2");
    }
  } catch (e) {
    await remove();
    throw e instanceof VrrpError
      ? e
      : new VrrpError("ERR_VIP", `vrrp: VMAC ${name}: ${(e as Error).message}`, { cause: e });
  }
  return { name, mac, remove };
}
