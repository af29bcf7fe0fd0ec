/**
 * Receive policy for adverts that passed the RFC 5798 §7.1 checks (pure): what keepalived 2.2 drops beyond
 * them, with the reason reported as a discard.
 *
 * - An address count or list that differs from ours (RFC 5798 §7.1: MAY verify; keepalived 2.2's
 *   vrrp_check_packet drops both, "received an unexpected ip number count" / "ip address associated with VRID
 *   not present in MASTER advert"): a peer configured with other VIPs must not move ours.
 * - The address owner (priority 255) hearing another priority-255 advert: two routers own the addresses, a
 *   configuration error; the owner keeps its addresses (RFC 5798: the owner is always master) and reports it.
 */
import { canonicalAddress } from "./address.js";
import type { Advert } from "./codec.js";

export type PolicyReason = "addresses" | "owner-conflict";

export interface PolicyDiscard {
  reason: PolicyReason;
  detail: string;
  /** a configuration error on this segment (reported as an `error` too, not just a discard) */
  configError: boolean;
}

export interface PolicyContext {
  /** this router's virtual addresses (any text form) */
  vips: readonly string[];
  /** this router's priority in use (255 = the address owner) */
  priority: number;
}

/** undefined when the advert may go to the state machine; otherwise why it is dropped. */
export function screenAdvert(ctx: PolicyContext, src: string, a: Advert): PolicyDiscard | undefined {
  if (a.addresses.length !== ctx.vips.length)
    return {
      reason: "addresses",
      detail: `vrrp: advert from ${src} lists ${a.addresses.length} address(es), this router has ${ctx.vips.length}: configure the same virtual addresses on every router of VRID ${a.vrid}`,
      configError: false,
    };
  const theirs = new Set(a.addresses.map(canonicalAddress));
  const missing = ctx.vips.map(canonicalAddress).filter((v) => !theirs.has(v));
  if (missing.length > 0)
    return {
      reason: "addresses",
      detail: `vrrp: advert from ${src} does not list ${missing.join(", ")}: configure the same virtual addresses on every router of VRID ${a.vrid}`,
      configError: false,
    };
  if (ctx.priority === 255 && a.priority === 255)
    return {
      reason: "owner-conflict",
      detail: `vrrp: ${src} also advertises priority 255 (address owner) for VRID ${a.vrid}: only one router may own the addresses; give the other a priority of 1..254`,
      configError: true,
    };
  return undefined;
}
