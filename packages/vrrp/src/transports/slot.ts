/**
 * The transport an instance uses: the caller's (used as given, never stopped) or its own raw transport (opened
 * at start, closed at stop). Either way it must fit the configuration, and the instance's receiver is removed
 * at stop, so the instance can start again on the same transport.
 */
import type { InterfaceInfo } from "@lbkit/arp";
import type { ReceivedPacket } from "../codec.js";
import type { VrrpConfig } from "../config.js";
import { VrrpConfigError } from "../errors.js";
import { RawTransport } from "./raw.js";
import type { Transport } from "./transport.js";

export class TransportSlot {
  current: Transport | undefined;
  private own: RawTransport | undefined;
  private unlisten: (() => void) | undefined;

  constructor(
    private readonly given: Transport | undefined,
    private readonly ifname: string | undefined,
  ) {}

  /** `exclude`: addresses never to pick as the source (the VIPs, which may already sit on the interface). */
  async open(
    c: VrrpConfig,
    exclude: string[],
    receive: (p: ReceivedPacket) => void,
    link: InterfaceInfo | undefined,
  ): Promise<Transport> {
    let t = this.given;
    if (!t) {
      this.own = new RawTransport({
        interface: this.ifname!,
        family: c.family,
        unicastPeers: c.unicastPeers,
        sourceAddress: c.sourceAddress,
        exclude,
        link,
      });
      await this.own.start();
      t = this.own;
    }
    checkTransport(c, t);
    this.current = t;
    this.unlisten = t.onMessage(receive);
    return t;
  }

  async close(): Promise<void> {
    this.unlisten?.();
    this.unlisten = undefined;
    this.current = undefined;
    await this.own?.stop();
    this.own = undefined;
  }
}

/** A transport must match the configured family and, with unicast peers, send to exactly them. */
function checkTransport(c: VrrpConfig, t: Transport): void {
  if (t.family !== c.family)
    throw new VrrpConfigError(
      "transport",
      `IPv${t.family}`,
      `does not match the IPv${c.family} virtual addresses`,
    );
  const dst = new Set(t.destinations);
  if (
    c.unicastPeers.length > 0 &&
    (dst.size !== c.unicastPeers.length || c.unicastPeers.some((p) => !dst.has(p)))
  )
    throw new VrrpConfigError(
      "unicastPeers",
      c.unicastPeers,
      `differ from the transport's destinations ${JSON.stringify([...dst])}; give the peers to the transport too, or drop \`transport\` and let the instance open its own (sourceAddress is keepalived's unicast_src_ip)`,
    );
  if (c.sourceAddress !== undefined && c.sourceAddress !== t.sourceAddress)
    throw new VrrpConfigError(
      "sourceAddress",
      c.sourceAddress,
      `differs from the transport's source ${t.sourceAddress}`,
    );
}
