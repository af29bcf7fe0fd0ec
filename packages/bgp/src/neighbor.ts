/** A BGP neighbor (the router), pure: validated options and the GoBGP `Peer` message they become. */
import { parseIp } from "@lbkit/core";
import { BgpConfigError, check } from "./errors.js";

export interface NeighborOptions {
  /** the router's address */
  address: string;
  peerAs: number;
  /** BGP hold time, s (default 9; 0 disables keepalives, 3 is the minimum otherwise) */
  holdTime?: number;
  /** s between KEEPALIVEs (default holdTime / 3) */
  keepalive?: number;
  /** s between connection attempts (default 1) */
  connectRetry?: number;
  /** the address to dial from (default: the kernel's choice) */
  localAddress?: string;
}

export interface Neighbor {
  address: string;
  family: 4 | 6;
  peerAs: number;
  holdTime: number;
  keepalive: number;
  connectRetry: number;
  localAddress: string | undefined;
  peer(localAs: number): Record<string, unknown>;
}

export type SessionState = "idle" | "connect" | "active" | "opensent" | "openconfirm" | "established";

export function sessionState(s: string | undefined): SessionState {
  const v = (s ?? "IDLE").toLowerCase();
  return (
    (["connect", "active", "opensent", "openconfirm", "established"] as const).find((x) => x === v) ?? "idle"
  );
}

export function normalizeNeighbor(n: NeighborOptions, option: string): Neighbor {
  check.object(option, n, ["address", "peerAs", "holdTime", "keepalive", "connectRetry", "localAddress"]);
  const ip = parseIp(n.address);
  if (!ip)
    throw new BgpConfigError(`${option}.address`, n.address, "must be the router's IPv4 or IPv6 address");
  const peerAs = check.int(`${option}.peerAs`, n.peerAs, 1, 0xffffffff);
  const holdTime = check.int(`${option}.holdTime`, n.holdTime ?? 9, 0, 65535);
  if (holdTime > 0 && holdTime < 3)
    throw new BgpConfigError(`${option}.holdTime`, holdTime, "must be 0 or 3..65535 s (RFC 4271 §4.2)");
  const keepalive = check.int(
    `${option}.keepalive`,
    n.keepalive ?? Math.floor(holdTime / 3),
    0,
    holdTime || 65535,
  );
  const connectRetry = check.int(`${option}.connectRetry`, n.connectRetry ?? 1, 1, 65535);
  const localAddress = n.localAddress === undefined ? undefined : parseIp(n.localAddress)?.text;
  if (n.localAddress !== undefined && !localAddress)
    throw new BgpConfigError(`${option}.localAddress`, n.localAddress, "must be an address of this node");
  const family = ip.family;
  return {
    address: ip.text,
    family,
    peerAs,
    holdTime,
    keepalive,
    connectRetry,
    localAddress,
    peer: (localAs) => ({
      conf: { neighborAddress: ip.text, peerAsn: peerAs, localAsn: localAs },
      timers: { config: { holdTime, keepaliveInterval: keepalive, connectRetry } },
      transport: localAddress ? { localAddress } : {},
      // both unicast families on every session (MP-BGP): IPv6 VIPs can ride an IPv4 session and vice versa
      afiSafis: (["AFI_IP", "AFI_IP6"] as const).map((afi) => ({
        config: { family: { afi, safi: "SAFI_UNICAST" }, enabled: true },
      })),
    }),
  };
}
