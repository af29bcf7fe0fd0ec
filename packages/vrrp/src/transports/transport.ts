/**
 * The transport interface: how adverts leave and arrive (raw IP protocol 112, unicast peers, UDP loopback, an
 * in-memory segment). It is the data path only: a transport is opened and released by whoever created it (its
 * class's start()/stop()); an instance given one by the caller never stops it.
 */
import type { Family } from "@lbkit/core";
import type { ReceivedPacket } from "../codec.js";

export interface Transport {
  readonly family: Family;
  /** the IP source our adverts carry: the interface's primary address (IPv6: its link-local address) */
  readonly sourceAddress: string;
  /** where each advert goes: the VRRP group, or every unicast peer */
  readonly destinations: readonly string[];
  /** false when the medium cannot carry TTL 255 semantics (UDP loopback): validation skips the TTL check */
  readonly checksTtl: boolean;
  /** sends one encoded VRRP message (no IP header) to `dst`; rejects with a VrrpError */
  send(dst: string, message: Uint8Array): Promise<void>;
  /** adds a receiver of every VRRP packet that arrives (our own are filtered out); returns its remover */
  onMessage(fn: (packet: ReceivedPacket) => void): () => void;
}

/** The receivers of one transport (every transport keeps a list and hands out removers). */
export class Receivers {
  private list: ((p: ReceivedPacket) => void)[] = [];

  add(fn: (p: ReceivedPacket) => void): () => void {
    this.list = [...this.list, fn];
    return () => {
      this.list = this.list.filter((x) => x !== fn);
    };
  }

  deliver(p: ReceivedPacket): void {
    for (const r of this.list) r(p);
  }
}
