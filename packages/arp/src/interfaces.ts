// Interface index and MAC over rtnetlink (RTM_GETLINK), as `ip link show <name>` reads them.
import { createRtNetlink } from "netlink";
import { ArpError } from "./errors.js";
import { formatMac } from "./mac.js";

export interface InterfaceInfo {
  name: string;
  ifindex: number;
  /** The interface's own MAC, "aa:bb:cc:dd:ee:ff". */
  mac: string;
  /** IFF_UP set. */
  up: boolean;
  mtu?: number;
}

const IFNAME_RE = /^[^\s/:]{1,15}$/;

/** Looks an interface up by name in the current network namespace; ArpError ENOINTERFACE when missing. */
export async function getInterface(name: string): Promise<InterfaceInfo> {
  if (typeof name !== "string" || !IFNAME_RE.test(name)) {
    throw new ArpError(
      "ENOINTERFACE",
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
          "ENOINTERFACE",
          `arp: interface "${name}" not found; check \`ip link\` (in a network namespace, run under \`ip netns exec\`)`,
          { cause: err },
        );
      }
      throw new ArpError(
        "ENOINTERFACE",
        `arp: cannot read interface "${name}" over netlink: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    const link = links[0];
    if (!link || link.data.index === undefined) {
      throw new ArpError("ENOINTERFACE", `arp: interface "${name}" not found; check \`ip link\``);
    }
    const addr = link.attrs.address;
    if (addr?.length !== 6) {
      throw new ArpError(
        "ENOINTERFACE",
        `arp: interface "${name}" has no Ethernet MAC (${addr ? `${addr.length}-byte address` : "no address"}); ` +
          "gratuitous ARP and NA need an Ethernet-like link",
      );
    }
    return {
      name,
      ifindex: link.data.index,
      mac: formatMac(addr),
      up: link.data.flags?.up === true,
      ...(link.attrs.mtu !== undefined ? { mtu: link.attrs.mtu } : {}),
    };
  } finally {
    rt.socket.close();
  }
}
