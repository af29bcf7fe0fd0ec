/** Instance configuration: validation at construction with keepalived's ranges and clear messages. */
import { type Family, parseIp } from "@lbkit/core";
import type { VrrpVersion } from "./codec.js";
import { check, VrrpConfigError } from "./errors.js";

/** A VIP as keepalived writes it: "198.18.0.100", "198.18.0.100/24", "2001:db8::100/64". */
export interface VirtualAddress {
  address: string;
  prefixLength: number;
  family: Family;
}

export interface VrrpConfigInput {
  /** virtual_router_id, 1..255 */
  vrid: number;
  /** 1..254, or 255 for the address owner. Default 100 (keepalived's default). */
  priority?: number;
  /** 2 or 3. Default 2, as keepalived (`vrrp_version`). */
  version?: VrrpVersion;
  /** advert_int in ms: v2 whole seconds 1000..255000, v3 10 ms steps 10..40950. Default 1000. */
  advertInterval?: number;
  /** virtual_ipaddress: one family per instance */
  virtualAddresses: readonly string[];
  /** v2 `auth_type PASS` + `auth_pass` (at most 8 bytes) */
  authPassword?: string;
  /** keepalived `nopreempt` is `preempt: false`. Default true. */
  preempt?: boolean;
  /** keepalived `preempt_delay`, ms (0..1000 s) */
  preemptDelay?: number;
  /** keepalived `unicast_peer`: adverts go to these instead of the multicast group, and only theirs are heard */
  unicastPeers?: readonly string[];
  /**
   * keepalived `unicast_src_ip`: the source address of this node's adverts (and its address in tie-breaks).
   * Default: the interface's primary IPv4 address; for IPv6 its link-local address (multicast) or its first
   * global address (unicast peers).
   */
  sourceAddress?: string;
}

export interface VrrpConfig {
  vrid: number;
  priority: number;
  version: VrrpVersion;
  advertInterval: number;
  family: Family;
  virtualAddresses: VirtualAddress[];
  authPassword: string | undefined;
  preempt: boolean;
  preemptDelay: number;
  unicastPeers: string[];
  sourceAddress: string | undefined;
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

function fail(option: string, value: unknown, fix: string): never {
  throw new VrrpConfigError(option, value, fix);
}

export function parseVirtualAddress(text: string): VirtualAddress {
  const [address = "", prefix] = String(text).split("/");
  const ip = parseIp(address);
  if (!ip) fail("virtualAddresses", text, "is not an IPv4 or IPv6 address (optionally with /prefix)");
  const max = ip.family === 4 ? 32 : 128;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max)
    fail("virtualAddresses", text, `has prefix length /${prefix} out of range 0..${max}`);
  return { address: ip.text, prefixLength, family: ip.family };
}

/** keepalived writes advert_int in seconds; lbkit takes ms. A small number is almost surely seconds. */
function intervalHint(v: unknown): string {
  return typeof v === "number" && v > 0 && v <= 255 && Number.isInteger(v)
    ? `; advertInterval is in ms: keepalived's advert_int ${v} is ${v * 1000}`
    : "";
}

/** Validates and normalises; throws `VrrpConfigError` naming the value and the fix. */
export function validateConfig(o: VrrpConfigInput): VrrpConfig {
  const version = o.version ?? 2;
  if (version !== 2 && version !== 3) fail("version", version, "must be 2 or 3");
  if (!isInt(o.vrid) || o.vrid < 1 || o.vrid > 255) fail("vrid", o.vrid, "must be an integer 1..255");
  const priority = o.priority ?? 100;
  if (!isInt(priority) || priority < 1 || priority > 255)
    fail("priority", priority, "must be an integer 1..254 (255 is reserved for the address owner)");
  const advertInterval = o.advertInterval ?? 1000;
  if (version === 2) {
    if (
      !isInt(advertInterval) ||
      advertInterval % 1000 !== 0 ||
      advertInterval < 1000 ||
      advertInterval > 255_000
    )
      fail(
        "advertInterval",
        advertInterval,
        `is not valid for VRRPv2: whole seconds in ms, 1000..255000 (use version 3 for sub-second adverts)${intervalHint(advertInterval)}`,
      );
  } else if (
    !isInt(advertInterval) ||
    advertInterval % 10 !== 0 ||
    advertInterval < 10 ||
    advertInterval > 40_950
  ) {
    fail(
      "advertInterval",
      advertInterval,
      `is not valid for VRRPv3: ms in 10 ms steps, 10..40950${intervalHint(advertInterval)}`,
    );
  }
  if (!Array.isArray(o.virtualAddresses) || o.virtualAddresses.length === 0)
    fail("virtualAddresses", o.virtualAddresses, "must list at least one VIP");
  if (o.virtualAddresses.length > 255)
    fail("virtualAddresses", o.virtualAddresses.length, "addresses exceed 255 per advert");
  const vips = o.virtualAddresses.map(parseVirtualAddress);
  const first = vips[0]!;
  const other = vips.find((v) => v.family !== first.family);
  if (other)
    fail(
      "virtualAddresses",
      o.virtualAddresses,
      `mix families (${first.address} is IPv${first.family}, ${other.address} is IPv${other.family}); use one instance per family`,
    );
  if (version === 2 && first.family === 6)
    fail("version", version, `is IPv4 only (RFC 3768): ${first.address} needs version 3`);
  if (o.authPassword !== undefined) {
    if (version !== 2)
      fail(
        "authPassword",
        o.authPassword,
        "is VRRPv2 only (RFC 5798 removed authentication); drop it or use version 2",
      );
    const n = Buffer.byteLength(o.authPassword);
    if (n === 0 || n > 8)
      fail("authPassword", o.authPassword, `has ${n} bytes; keepalived's auth_pass takes 1..8`);
  }
  const preemptDelay = o.preemptDelay ?? 0;
  check.ms("preemptDelay", preemptDelay, 0, 1_000_000);
  const unicastPeers = (o.unicastPeers ?? []).map((p) => {
    const ip = parseIp(p);
    if (!ip) fail("unicastPeers", p, "is not an IP address");
    if (ip.family !== first.family)
      fail("unicastPeers", p, `is IPv${ip.family} but the virtual addresses are IPv${first.family}`);
    return ip.text;
  });
  let sourceAddress: string | undefined;
  if (o.sourceAddress !== undefined) {
    const ip = parseIp(o.sourceAddress);
    if (!ip) fail("sourceAddress", o.sourceAddress, "is not an IP address (keepalived's unicast_src_ip)");
    if (ip.family !== first.family)
      fail(
        "sourceAddress",
        o.sourceAddress,
        `is IPv${ip.family} but the virtual addresses are IPv${first.family}`,
      );
    sourceAddress = ip.text;
  }
  return {
    vrid: o.vrid,
    priority,
    version,
    advertInterval,
    family: first.family,
    virtualAddresses: vips,
    authPassword: o.authPassword,
    preempt: o.preempt ?? true,
    preemptDelay,
    unicastPeers,
    sourceAddress,
  };
}
