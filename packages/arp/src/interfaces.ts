// The one interface lookup of lbkit: index, MAC, flags and (on request) addresses over rtnetlink, as
// `ip link show <name>` / `ip addr show dev <name>` read them. @lbkit/vrrp uses it for its transport, VIPs,
// owner detection and interface tracking.
import { type Family, formatIp } from "@lbkit/core";
import { createRtNetlink } from "netlink";
import { ArpError } from "./errors.js";
import { formatMac } from "./mac.js";

export interface InterfaceAddress {
  family: Family;
  /** canonical text */
  address: string;
  prefixLength: number;
  /** rtnetlink scope: 0 global, 253 link, 254 host */
  scope: number;
  /** IPv6 preferred lifetime 0 (never picked as a source) */
  deprecated: boolean;
}

export interface InterfaceInfo {
  name: string;
  ifindex: number;
  /** The interface's own MAC, "aa:bb:cc:dd:ee:ff"; undefined on a link without an Ethernet address. */
  mac: string | undefined;
  /** IFF_UP set. */
  up: boolean;
  /** IFF_RUNNING set (up with carrier): what keepalived's track_interface watches. */
  running: boolean;
  mtu?: number;
  /** Only when asked for (`{ addresses: true }`): every address on the interface, IPv4 first, in kernel order. */
  addresses?: InterfaceAddress[];
}

export interface GetInterfaceOptions {
  /** also read the interface's addresses (one more netlink dump) */
  addresses?: boolean;
}

const IFNAME_RE = /^[^\s/:]{1,15}$/;

/** Looks an interface up by name in the current network namespace; ArpError ERR_NO_INTERFACE when missing. */
export async function getInterface(name: string, o: GetInterfaceOptions = {}): Promise<InterfaceInfo> {
  if (typeof name !== "string" || !IFNAME_RE.test(name)) {
    throw new ArpError(
      "ERR_NO_INTERFACE",
      `arp: interface name ${JSON.stringify(name)} is not valid (1..15 characters, no spaces, "/" or ":")`,
    );
  }
  const rt = createRtNetlink();
  try {
    let links: Awaited<ReturnType<typeof rt.getLink>>;
    try {
      links = await rt.getLink({}, { ifname: name });
    } catch (err) {
      const code = (err as { code?: string }).code;
      const errno = (err as { errno?: number }).errno;
      if (code === "ENODEV" || errno === 19 || errno === -19 || /ENODEV|No such device/i.test(String(err))) {
        throw new ArpError(
          "ERR_NO_INTERFACE",
          `arp: interface "${name}" not found; check \`ip link\` (in a network namespace, run under \`ip netns exec\`)`,
          { cause: err },
        );
      }
      throw new ArpError(
        "ERR_NO_INTERFACE",
        `arp: cannot read interface "${name}" over netlink: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    const link = links[0];
    if (!link || link.data.index === undefined) {
      throw new ArpError("ERR_NO_INTERFACE", `arp: interface "${name}" not found; check \`ip link\``);
    }
    const ifindex = link.data.index;
    const addr = link.attrs.address;
    const info: InterfaceInfo = {
      name,
      ifindex,
      mac: addr?.length === 6 ? formatMac(addr) : undefined,
      up: link.data.flags?.up === true,
      running: link.data.flags?.up === true && link.data.flags?.running === true,
      ...(link.attrs.mtu !== undefined ? { mtu: link.attrs.mtu } : {}),
    };
    if (o.addresses) {
      const all = await rt.getAddresses();
      info.addresses = all
        .filter((a) => a.data.index === ifindex && (a.data.family === 2 || a.data.family === 10))
        .flatMap((a): InterfaceAddress[] => {
          const family: Family = a.data.family === 2 ? 4 : 6;
          const bytes = a.attrs.local ?? a.attrs.address;
          if (bytes?.length !== (family === 4 ? 4 : 16)) return [];
          return [
            {
              family,
              address: formatIp(new Uint8Array(bytes), family),
              prefixLength: a.data.prefixlen ?? (family === 4 ? 32 : 128),
              scope: a.data.scope ?? 0,
              deprecated: family === 6 && a.attrs.cacheInfo?.ifaPrefered === 0,
            },
          ];
        })
        .sort((x, y) => x.family - y.family);
    }
    return info;
  } finally {
    rt.socket.close();
  }
}

/** The interface's Ethernet MAC, or ArpError ERR_NO_INTERFACE: announcements need an Ethernet-like link. */
export function ethernetMac(info: InterfaceInfo): string {
  if (info.mac) return info.mac;
  throw new ArpError(
    "ERR_NO_INTERFACE",
    `arp: interface "${info.name}" has no Ethernet MAC; gratuitous ARP and NA need an Ethernet-like link`,
  );
}
