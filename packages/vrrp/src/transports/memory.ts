/**
 * An in-memory segment for tests and demos: transports joined to one `MemoryNetwork` hear each other's adverts
 * (delivered on a later microtask, as a socket would), with no sockets and no privileges. Runs on fake time.
 */
import type { Family } from "@lbkit/core";
import type { ReceivedPacket } from "../codec.js";
import { VrrpError } from "../errors.js";
import { Receivers, type Transport } from "./transport.js";

export class MemoryNetwork {
  private readonly members = new Map<string, MemoryTransport>();

  /** A transport for `address` on this segment (multicast to every other member). */
  transport(address: string, family: Family = 4): MemoryTransport {
    const t = new MemoryTransport(this, address, family);
    this.members.set(address, t);
    return t;
  }

  /** @internal */
  deliver(from: MemoryTransport, dst: string, message: Uint8Array): void {
    for (const t of this.members.values()) {
      if (t === from || !t.connected) continue;
      const packet: ReceivedPacket = {
        family: from.family,
        src: from.sourceAddress,
        dst,
        message: message.slice(),
      };
      queueMicrotask(() => t.receive(packet));
    }
  }
}

export class MemoryTransport implements Transport {
  readonly checksTtl = false;
  readonly destinations: readonly string[];
  /** false: the node is cut off (sends fail, nothing arrives), as a crashed or unplugged node */
  connected = true;
  private readonly receivers = new Receivers();
  /** adverts sent, for tests */
  sent = 0;

  constructor(
    private readonly network: MemoryNetwork,
    readonly sourceAddress: string,
    readonly family: Family,
  ) {
    this.destinations = [family === 4 ? "224.0.0.18" : "ff02::12"];
  }

  send(dst: string, message: Uint8Array): Promise<void> {
    if (!this.connected)
      return Promise.reject(
        new VrrpError("ERR_TRANSPORT_CLOSED", `vrrp: ${this.sourceAddress} is disconnected`),
      );
    this.sent++;
    this.network.deliver(this, dst, message);
    return Promise.resolve();
  }

  onMessage(fn: (p: ReceivedPacket) => void): () => void {
    return this.receivers.add(fn);
  }

  /** @internal */
  receive(p: ReceivedPacket): void {
    if (this.connected) this.receivers.deliver(p);
  }
}
