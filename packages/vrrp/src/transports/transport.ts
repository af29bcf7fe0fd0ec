/** The transport interface: how adverts leave and arrive (raw IP protocol 112, unicast peers, UDP loopback). */
import type { Family } from "../address.js";
import type { ReceivedPacket } from "../codec.js";

export interface Transport {
  readonly family: Family;
  /** the IP source our adverts carry: the interface's primary address (IPv6: its link-local address) */
  readonly sourceAddress: string;
  /** where each advert goes: the VRRP group, or every unicast peer */
  readonly destinations: readonly string[];
  /** false when the medium cannot carry TTL 255 semantics (UDP loopback): validation skips the TTL check */
  readonly checksTtl: boolean;
  /** sends one encoded VRRP message (no IP header) to `dst` */
  send(dst: string, message: Uint8Array): Promise<void>;
  /** registers the receiver of every VRRP packet that arrives (our own are filtered out) */
  onMessage(fn: (packet: ReceivedPacket) => void): void;
  close(): Promise<void>;
}
