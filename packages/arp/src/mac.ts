import { ArpError } from "./errors.js";

/** A MAC as "aa:bb:cc:dd:ee:ff" (or with "-") or 6 bytes. */
export type MacLike = string | Uint8Array;

export const BROADCAST_MAC = "ff:ff:ff:ff:ff:ff";

export function parseMac(mac: MacLike): Uint8Array {
  if (mac instanceof Uint8Array) {
    if (mac.length === 6) return Uint8Array.from(mac);
  } else if (typeof mac === "string" && /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(mac)) {
    return Uint8Array.from(mac.split(/[:-]/), (h) => Number.parseInt(h, 16));
  }
  const shown = mac instanceof Uint8Array ? `of ${mac.length} bytes` : JSON.stringify(mac);
  throw new ArpError("ERR_MAC", `arp: MAC address ${shown} is not 6 bytes like "02:00:5e:00:01:01"`);
}

export function formatMac(b: Uint8Array): string {
  return [...b.subarray(0, 6)].map((x) => x.toString(16).padStart(2, "0")).join(":");
}
