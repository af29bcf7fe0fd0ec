/**
 * A VIP route and its attributes, pure: validates the caller's spec and builds the GoBGP `Path` message (as plain
 * objects; `pack` turns an attribute into a google.protobuf.Any). No I/O.
 */
import { formatIp, parseCidr } from "@lbkit/core";
import { BgpConfigError, check } from "./errors.js";

export interface VipRoute {
  /** the VIP as a host prefix ("198.18.1.1/32", "2001:db8:1::1/128"); a bare address means its host prefix */
  prefix: string;
  /** MULTI_EXIT_DISC: lower wins between this site's balancers and another's */
  med?: number;
  /** LOCAL_PREF (iBGP only; an eBGP router ignores it) */
  localPref?: number;
  /** how many extra times our AS is prepended (a longer AS path makes this site a backup) */
  asPathPrepend?: number;
  /** "65000:100", or no-export / no-advertise / no-export-subconfed / blackhole */
  communities?: readonly string[];
}

export interface NormalizedRoute {
  prefix: string;
  family: 4 | 6;
  address: string;
  length: number;
  med: number | undefined;
  localPref: number | undefined;
  asPathPrepend: number;
  communities: number[];
}

const WELL_KNOWN: Record<string, number> = {
  "no-export": 0xffffff01,
  "no-advertise": 0xffffff02,
  "no-export-subconfed": 0xffffff03,
  blackhole: 0xffff029a,
};

export function parseCommunity(option: string, s: string): number {
  const known = WELL_KNOWN[s];
  if (known !== undefined) return known;
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(s);
  const hi = m ? Number(m[1]) : Number.NaN;
  const lo = m ? Number(m[2]) : Number.NaN;
  if (!(hi <= 0xffff && lo <= 0xffff))
    throw new BgpConfigError(
      option,
      s,
      `must be "ASN:value" (each 0..65535) or one of ${Object.keys(WELL_KNOWN).join(", ")}`,
    );
  return ((hi << 16) | lo) >>> 0;
}

export function formatCommunity(n: number): string {
  for (const [name, v] of Object.entries(WELL_KNOWN)) if (v === n) return name;
  return `${n >>> 16}:${n & 0xffff}`;
}

/** Validates a route spec (throws BgpConfigError naming `option`). */
export function normalizeRoute(r: VipRoute, option = "route"): NormalizedRoute {
  check.object(option, r, ["prefix", "med", "localPref", "asPathPrepend", "communities"]);
  const raw = check.string(`${option}.prefix`, r.prefix, 'e.g. "198.18.1.1/32"');
  const cidr = parseCidr(raw);
  if (!cidr)
    throw new BgpConfigError(`${option}.prefix`, raw, 'must be an IPv4 or IPv6 prefix, e.g. "198.18.1.1/32"');
  const family = cidr.family;
  const address = formatIp(cidr.bytes, family);
  const u32 = 0xffffffff;
  return {
    prefix: `${address}/${cidr.prefix}`,
    family,
    address,
    length: cidr.prefix,
    med: r.med === undefined ? undefined : check.int(`${option}.med`, r.med, 0, u32),
    localPref: r.localPref === undefined ? undefined : check.int(`${option}.localPref`, r.localPref, 0, u32),
    asPathPrepend:
      r.asPathPrepend === undefined ? 0 : check.int(`${option}.asPathPrepend`, r.asPathPrepend, 0, 16),
    communities: (r.communities ?? []).map((c, i) => parseCommunity(`${option}.communities[${i}]`, c)),
  };
}

/** A google.protobuf.Any as proto-loader carries it. */
export interface AnyMessage {
  type_url: string; // proto-loader keeps google.protobuf.Any field names as written
  value: Uint8Array;
}
export type Pack = (type: string, value: Record<string, unknown>) => AnyMessage;

const familyOf = (f: 4 | 6) => ({ afi: f === 4 ? "AFI_IP" : "AFI_IP6", safi: "SAFI_UNICAST" });

/** The GoBGP `Path` for a route originated here with next hop `nextHop` (AddPath / DeletePath). */
export function buildPath(
  r: NormalizedRoute,
  nextHop: string,
  localAs: number,
  pack: Pack,
): Record<string, unknown> {
  const nlri = pack("apipb.IPAddressPrefix", { prefix: r.address, prefixLen: r.length });
  const pattrs: AnyMessage[] = [pack("apipb.OriginAttribute", { origin: 0 })]; // IGP
  if (r.family === 4) pattrs.push(pack("apipb.NextHopAttribute", { nextHop }));
  else
    pattrs.push(
      pack("apipb.MpReachNLRIAttribute", { family: familyOf(6), nextHops: [nextHop], nlris: [nlri] }),
    );
  if (r.asPathPrepend > 0)
    pattrs.push(
      pack("apipb.AsPathAttribute", {
        segments: [{ type: "AS_SEQUENCE", numbers: Array<number>(r.asPathPrepend).fill(localAs) }],
      }),
    );
  if (r.med !== undefined) pattrs.push(pack("apipb.MultiExitDiscAttribute", { med: r.med }));
  if (r.localPref !== undefined) pattrs.push(pack("apipb.LocalPrefAttribute", { localPref: r.localPref }));
  if (r.communities.length > 0)
    pattrs.push(pack("apipb.CommunitiesAttribute", { communities: r.communities }));
  return { family: familyOf(r.family), nlri, pattrs };
}
