/**
 * Addresses as VRRP compares them. Parsing and formatting are @lbkit/core's; this adds the vrrp meaning: text
 * already validated by the config (a bad one is a VrrpError), and the tie-break order between primary addresses.
 */
import { compareIp, parseIp } from "@lbkit/core";
import { VrrpError } from "./errors.js";

function parsed(address: string) {
  const ip = parseIp(address);
  if (!ip)
    throw new VrrpError(
      "ERR_ADDRESS",
      `vrrp: address ${JSON.stringify(address)} is not an IPv4 or IPv6 address`,
    );
  return ip;
}

/** 4 or 16 bytes of an address. */
export function addressToBytes(address: string): Uint8Array {
  return parsed(address).bytes;
}

/** Canonical text of an address (so "2001:DB8:0::1" and "2001:db8::1" compare equal). */
export function canonicalAddress(address: string): string {
  return parsed(address).text;
}

/** RFC 5798 §6.4.3 tie-break: two addresses of one family as unsigned big-endian numbers, <0, 0, >0. */
export function compareAddresses(a: string, b: string): number {
  return compareIp(parsed(a).bytes, parsed(b).bytes);
}
