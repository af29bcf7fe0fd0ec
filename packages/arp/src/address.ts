// An address an operator wrote, parsed by @lbkit/core's strict parser; a bad one is an ArpError naming it.
import { type IpAddress, parseIp } from "@lbkit/core";
import { ArpError } from "./errors.js";

/** Parses an IPv4 or IPv6 address; throws ArpError ERR_ADDRESS naming the value otherwise. */
export function parseAddress(text: string): IpAddress {
  const ip = typeof text === "string" && !text.includes("%") ? parseIp(text) : undefined;
  if (ip) return ip;
  throw new ArpError(
    "ERR_ADDRESS",
    `arp: address ${JSON.stringify(text)} is not a valid IPv4 or IPv6 address`,
  );
}
