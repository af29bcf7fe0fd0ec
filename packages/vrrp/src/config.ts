/** Instance configuration: validation at construction with keepalived's ranges and clear messages. */
import { canonicalAddress, type Family, familyOf } from "./address.js";
import type { VrrpVersion } from "./codec.js";
import { VrrpConfigError } from "./errors.js";

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
  /** keepalived `unicast_peer` */
  unicastPeers?: readonly string[];
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
}

function fail(option: string, message: string): never {
  throw new VrrpConfigError(`vrrp: ${message}`, option);
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

export function parseVirtualAddress(text: string): VirtualAddress {
  const [address = "", prefix] = String(text).split("/");
  const family = familyOf(address);
  if (!family)
    fail("virtualAddresses", `virtual address ${JSON.stringify(text)} is not an IPv4 or IPv6 address`);
  const max = family === 4 ? 32 : 128;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max)
    fail("virtualAddresses", `prefix length /${prefix} of ${text} out of range 0..${max}`);
  return { address: canonicalAddress(address), prefixLength, family };
}

/** Validates and normalises; throws `VrrpConfigError` naming the value and the fix. */
export function validateConfig(o: VrrpConfigInput): VrrpConfig {
  const version = o.version ?? 2;
  if (version !== 2 && version !== 3) fail("version", `version ${String(version)} is not 2 or 3`);
  if (!isInt(o.vrid) || o.vrid < 1 || o.vrid > 255)
    fail("vrid", `vrid ${String(o.vrid)} out of range 1..255`);
  const priority = o.priority ?? 100;
  if (!isInt(priority) || priority < 1 || priority > 255)
    fail(
      "priority",
      `priority ${String(priority)} out of range 1..254 (255 is reserved for the address owner)`,
    );
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
        `advert interval ${String(advertInterval)} ms is not valid for VRRPv2 (whole seconds, 1000..255000 ms; use version 3 for sub-second adverts)`,
      );
  } else if (
    !isInt(advertInterval) ||
    advertInterval % 10 !== 0 ||
    advertInterval < 10 ||
    advertInterval > 40_950
  ) {
    fail(
      "advertInterval",
      `advert interval ${String(advertInterval)} ms is not valid for VRRPv3 (10 ms steps, 10..40950 ms)`,
    );
  }
  if (!Array.isArray(o.virtualAddresses) || o.virtualAddresses.length === 0)
    fail("virtualAddresses", "virtualAddresses is empty (give at least one VIP)");
  if (o.virtualAddresses.length > 255)
    fail("virtualAddresses", `${o.virtualAddresses.length} virtual addresses exceed 255 per advert`);
  const vips = o.virtualAddresses.map(parseVirtualAddress);
  const first = vips[0]!;
  const other = vips.find((v) => v.family !== first.family);
  if (other)
    fail(
      "virtualAddresses",
      `virtual addresses of mixed families (${first.address} is IPv${first.family}, ${other.address} is IPv${other.family}); use one instance per family`,
    );
  if (version === 2 && first.family === 6)
    fail("version", `VRRPv2 is IPv4 only (RFC 3768): ${first.address} needs version 3`);
  if (o.authPassword !== undefined) {
    if (version !== 2)
      fail(
        "authPassword",
        "authPassword is VRRPv2 only (RFC 5798 removed authentication); drop it or use version 2",
      );
    const n = Buffer.byteLength(o.authPassword);
    if (n === 0 || n > 8) fail("authPassword", `auth_pass of ${n} bytes out of range 1..8`);
  }
  const preemptDelay = o.preemptDelay ?? 0;
  if (typeof preemptDelay !== "number" || preemptDelay < 0 || preemptDelay > 1_000_000)
    fail("preemptDelay", `preemptDelay ${String(preemptDelay)} ms out of range 0..1000000`);
  const unicastPeers = (o.unicastPeers ?? []).map((p) => {
    const f = familyOf(p);
    if (!f) fail("unicastPeers", `unicast peer ${JSON.stringify(p)} is not an IP address`);
    if (f !== first.family)
      fail("unicastPeers", `unicast peer ${p} is IPv${f} but the virtual addresses are IPv${first.family}`);
    return canonicalAddress(p);
  });
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
  };
}
