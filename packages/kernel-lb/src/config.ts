/** Virtual service options (keepalived's `virtual_server`), validated at construction. */
import { type Family, parseIp, type ServerState, validators } from "@lbkit/core";
import { KernelLbConfigError } from "./errors.js";

const v = validators((option, value, fix) => new KernelLbConfigError(option, value, fix));

/** What a service reads from its pool: @lbkit/balancer's `Pool` fits, or anything with this shape. */
export interface MemberSource {
  readonly servers: readonly MemberView[];
}

export interface MemberView {
  readonly id: string;
  readonly address: string | undefined;
  readonly port: number | undefined;
  readonly weight: number;
  readonly state: ServerState;
  readonly backup?: boolean;
}

/** keepalived `lb_algo`: `rr` (weights only gate 0), `wrr`, `sh` (source hashing). */
export type Scheduler = "rr" | "wrr" | "sh";
export const SCHEDULERS: readonly Scheduler[] = ["rr", "wrr", "sh"];

/**
 * keepalived `lb_kind`: `nat` rewrites the destination (DNAT, conntrack keeps each flow on its server); `dr`
 * (direct return) forwards the unchanged packet to the real server's MAC, and the real server answers the client
 * itself (see the README's *LVS-DR*).
 */
export type LbKind = "nat" | "dr";

export interface VirtualServiceOptions {
  /** unique within a director */
  id: string;
  /** the virtual address (VIP), IPv4 or IPv6 */
  vip: string;
  port: number;
  /** default "tcp" */
  protocol?: "tcp" | "udp";
  /** default "wrr" */
  scheduler?: Scheduler;
  /** the real servers: their address, port (default: the service's), weight and state */
  pool: MemberSource;
  /** keepalived `sorry_server`: where new flows go while no real server is usable */
  sorryServer?: { address: string; port?: number };
  /**
   * keepalived `quorum`: the sum of usable weights below which the service is down (its flows go to the sorry
   * server, or are not balanced); default 1
   */
  quorum?: number;
  /** keepalived `hysteresis`: the service comes back up only at quorum + hysteresis; default 0 */
  hysteresis?: number;
  /**
   * source-hash buckets (`sh`), fixed for the service's life so that a membership change moves only the buckets
   * of the members that come or go; default 4096, up to 65536 (keep it ≥ 16 × the real servers for balance)
   */
  buckets?: number;
  /** `wrr` table size bound; default 4096 slots (weights are scaled down past it) */
  maxSlots?: number;
  /**
   * LVS-NAT return path: true masquerades flows to the real servers (they reply to the director whatever their
   * route); false (default) expects the real servers to route replies back through the director.
   */
  masquerade?: boolean;
  /** keepalived `lb_kind`; default "nat" */
  lbKind?: LbKind;
  /**
   * `dr` only, required: the interface the VIP's packets arrive on and the real servers are reached through (one
   * L2 segment); the director's nftables netdev ingress hook is bound to it
   */
  device?: string;
}

export interface ServiceConfig {
  id: string;
  vip: string;
  family: Family;
  port: number;
  protocol: "tcp" | "udp";
  scheduler: Scheduler;
  pool: MemberSource;
  sorryServer: { address: string; port: number } | undefined;
  quorum: number;
  hysteresis: number;
  buckets: number;
  maxSlots: number;
  masquerade: boolean;
  lbKind: LbKind;
  device: string | undefined;
}

const KNOWN = [
  "id",
  "vip",
  "port",
  "protocol",
  "scheduler",
  "pool",
  "sorryServer",
  "quorum",
  "hysteresis",
  "buckets",
  "maxSlots",
  "masquerade",
  "lbKind",
  "device",
];

export function serviceConfig(o: VirtualServiceOptions, at = "service"): ServiceConfig {
  v.object(at, o, KNOWN);
  const id = v.string(`${at}.id`, o.id);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id))
    throw new KernelLbConfigError(`${at}.id`, id, "must be 1..64 characters of A-Z a-z 0-9 _ . -");
  const ip = parseIp(o.vip);
  if (!ip) throw new KernelLbConfigError(`${at}.vip`, o.vip, "must be an IPv4 or IPv6 address");
  const port = v.int(`${at}.port`, o.port, 1, 65535);
  const protocol = v.oneOf(`${at}.protocol`, o.protocol ?? "tcp", ["tcp", "udp"] as const);
  const scheduler = v.oneOf(`${at}.scheduler`, o.scheduler ?? "wrr", SCHEDULERS);
  if (typeof o.pool !== "object" || o.pool === null || !Array.isArray((o.pool as MemberSource).servers))
    throw new KernelLbConfigError(
      `${at}.pool`,
      o.pool,
      "must be a Pool from @lbkit/balancer (or have `servers`)",
    );
  let sorryServer: ServiceConfig["sorryServer"];
  if (o.sorryServer !== undefined) {
    const s = parseIp(o.sorryServer?.address);
    if (!s || s.family !== ip.family)
      throw new KernelLbConfigError(
        `${at}.sorryServer.address`,
        o.sorryServer?.address,
        `must be an IPv${ip.family} address (the VIP's family)`,
      );
    sorryServer = {
      address: s.text,
      port: v.int(`${at}.sorryServer.port`, o.sorryServer.port ?? port, 1, 65535),
    };
  }
  const lbKind = v.oneOf(`${at}.lbKind`, o.lbKind ?? "nat", ["nat", "dr"] as const);
  const masquerade = v.bool(`${at}.masquerade`, o.masquerade ?? false);
  let device: string | undefined;
  if (lbKind === "dr") {
    if (typeof o.device !== "string" || !/^[A-Za-z0-9_.:@-]{1,15}$/.test(o.device))
      throw new KernelLbConfigError(
        `${at}.device`,
        o.device,
        'must name the interface the VIP arrives on and the real servers are reached through (e.g. "eth0") when lbKind is "dr"',
      );
    device = o.device;
    if (masquerade)
      throw new KernelLbConfigError(
        `${at}.masquerade`,
        masquerade,
        'must be false with lbKind "dr" (the real servers answer the client directly)',
      );
    if (sorryServer && sorryServer.port !== port)
      throw new KernelLbConfigError(
        `${at}.sorryServer.port`,
        sorryServer.port,
        `must be the service's port ${port} with lbKind "dr" (direct return forwards the packet unchanged)`,
      );
  } else if (o.device !== undefined)
    throw new KernelLbConfigError(`${at}.device`, o.device, 'is only for lbKind "dr"; remove it');
  return {
    id,
    vip: ip.text,
    family: ip.family,
    port,
    protocol,
    scheduler,
    pool: o.pool,
    sorryServer,
    quorum: v.int(`${at}.quorum`, o.quorum ?? 1, 1),
    hysteresis: v.int(`${at}.hysteresis`, o.hysteresis ?? 0, 0),
    buckets: v.int(`${at}.buckets`, o.buckets ?? 4096, 1, 65536),
    maxSlots: v.int(`${at}.maxSlots`, o.maxSlots ?? 4096, 1, 65536),
    masquerade,
    lbKind,
    device,
  };
}
