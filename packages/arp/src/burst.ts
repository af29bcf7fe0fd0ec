// The pure half of announcing: option validation shared by announce() and Announcer, and the frames of one
// burst (keepalived's rounds of one GARP per VIP). No I/O.
import { type IpAddress, systemTime, type Time } from "@lbkit/core";
import { parseAddress } from "./address.js";
import { ArpConfigError, ArpError, check } from "./errors.js";
import { buildGratuitousArp, buildUnsolicitedNa } from "./frames.js";
import type { InterfaceInfo } from "./interfaces.js";
import { type MacLike, parseMac } from "./mac.js";
import type { FrameSender } from "./socket.js";

/** Which gratuitous ARP to send for IPv4 addresses; IPv6 addresses always get an unsolicited NA. */
export type AnnounceForm = "request" | "reply" | "both";

export type FrameKind = "arp-request" | "arp-reply" | "na";

/** Resolves the interface and opens a frame sender on it (default: netlink lookup + AF_PACKET socket). */
export type OpenLink = (name: string) => Promise<{ info: InterfaceInfo; sender: FrameSender }>;

interface CommonOptions {
  /** Interface name, e.g. "eth0". */
  interface: string;
  /** IPv4 and/or IPv6 addresses (VIPs), without prefix length. */
  addresses: string[];
  /** Milliseconds between two frames on the interface — keepalived garp_interval / gna_interval. Default 0. */
  interval?: number;
  /** Gratuitous ARP form for IPv4. Default "request" (what keepalived sends). */
  form?: AnnounceForm;
  /** The MAC to announce; default the interface's own (pass the VRRP virtual MAC when using one). */
  mac?: MacLike;
  /** Router flag in NAs. Default false. */
  router?: boolean;
  /** Default systemTime; tests pass a FakeTime. */
  time?: Time;
  /** How frames reach the wire; tests and other link layers replace the lookup and the socket. */
  open?: OpenLink;
}

export interface AnnounceOptions extends CommonOptions {
  /** Frames per address (and per form) in one burst — keepalived garp_master_repeat. Default 5. */
  count?: number;
  /** A second burst this many ms after the first — keepalived garp_master_delay. Default 0 (none). */
  delay?: number;
}

export interface AnnouncerOptions extends CommonOptions {
  /** Frames per address in each of the two bursts after start — keepalived garp_master_repeat. Default 5. */
  repeat?: number;
  /** Delay of the second burst after start, ms — keepalived garp_master_delay. Default 5000; 0 = none. */
  delay?: number;
  /** Refresh period while started, ms — keepalived garp_master_refresh. Default 0 (off). */
  refresh?: number;
  /** Frames per address at each refresh — keepalived garp_master_refresh_repeat. Default 1. */
  refreshRepeat?: number;
}

export interface PlannedFrame {
  address: string;
  family: 4 | 6;
  kind: FrameKind;
  bytes: Uint8Array;
}

export interface SentFrame extends PlannedFrame {
  /** Clock time when it was handed to the kernel. */
  at: number;
}

export interface AnnounceResult {
  interface: string;
  ifindex: number;
  mac: string;
  frames: SentFrame[];
}

export const MAX_COUNT = 1000;
export const MAX_ADDRESSES = 1024;

export interface Normalized {
  interface: string;
  addresses: IpAddress[];
  interval: number;
  form: AnnounceForm;
  mac?: Uint8Array;
  router: boolean;
  time: Time;
}

const FORMS = ["request", "reply", "both"] as const;

/** Validates the options both shapes share (bad config fails here, not at the first frame). */
export function normalizeAnnounceOptions(opts: CommonOptions): Normalized {
  if (!opts || typeof opts !== "object") throw new ArpConfigError("options", opts, "must be an object");
  check.string("interface", opts.interface, "an interface name such as eth0");
  if (!Array.isArray(opts.addresses) || opts.addresses.length === 0)
    throw new ArpConfigError("addresses", opts.addresses, "must list at least one IPv4 or IPv6 address");
  check.int("addresses.length", opts.addresses.length, 1, MAX_ADDRESSES);
  const seen = new Set<string>();
  const addresses: IpAddress[] = [];
  for (const a of opts.addresses) {
    const parsed = parseAddress(a);
    if (parsed.family === 6 && parsed.bytes[0] === 0xff) {
      throw new ArpError(
        "ERR_ADDRESS",
        `arp: address ${JSON.stringify(a)} is multicast; only unicast is announced`,
      );
    }
    if (!seen.has(parsed.text)) {
      seen.add(parsed.text);
      addresses.push(parsed);
    }
  }
  return {
    interface: opts.interface,
    addresses,
    interval: check.ms("interval", opts.interval ?? 0, 0, 60_000),
    form: check.oneOf("form", opts.form ?? "request", FORMS),
    ...(opts.mac !== undefined ? { mac: parseMac(opts.mac) } : {}),
    router: opts.router === true,
    time: opts.time ?? systemTime,
  };
}

/**
 * The frames of one burst, in send order: `count` rounds, each announcing every address once (request then
 * reply for form "both"), as keepalived sends one GARP per VIP per round.
 */
export function planBurst(
  addresses: IpAddress[],
  opts: { count: number; form: AnnounceForm; mac: MacLike; router?: boolean },
): PlannedFrame[] {
  const mac = parseMac(opts.mac);
  const once: PlannedFrame[] = [];
  for (const a of addresses) {
    if (a.family === 4) {
      const forms: ("request" | "reply")[] = opts.form === "both" ? ["request", "reply"] : [opts.form];
      for (const form of forms) {
        once.push({
          address: a.text,
          family: 4,
          kind: form === "request" ? "arp-request" : "arp-reply",
          bytes: buildGratuitousArp({ mac, address: a, form }),
        });
      }
    } else {
      once.push({
        address: a.text,
        family: 6,
        kind: "na",
        bytes: buildUnsolicitedNa({ mac, address: a, router: opts.router === true }),
      });
    }
  }
  const out: PlannedFrame[] = [];
  for (let i = 0; i < opts.count; i++) out.push(...once);
  return out;
}
