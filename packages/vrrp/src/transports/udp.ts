/**
 * A UDP loopback transport for unprivileged development and demos. NON-STANDARD: VRRP messages ride in UDP
 * datagrams between 127.x.y.z addresses (each node binds its own loopback address, one shared port), so no
 * real VRRP peer (keepalived, a router) can hear them. Use the raw transport on a real segment.
 */
import { createSocket, type Socket } from "node:dgram";
import { check, VrrpError } from "../errors.js";
import { Receivers, type Transport } from "./transport.js";

export interface UdpTransportOptions {
  /** this node's loopback address, e.g. "127.0.0.1" (it is also the primary address for tie-breaks) */
  address: string;
  /** every node's address, this one's included or not */
  peers: readonly string[];
  /** the shared UDP port (default 11212) */
  port?: number;
}

export class UdpTransport implements Transport {
  readonly family = 4 as const;
  readonly sourceAddress: string;
  /** v3's pseudo-header needs the destination; a datagram carries its own, so each peer is one destination */
  readonly destinations: readonly string[];
  readonly checksTtl = false;
  readonly port: number;
  private readonly receivers = new Receivers();
  private socket: Socket | undefined;
  private starting: Promise<void> | undefined;

  constructor(o: UdpTransportOptions) {
    this.sourceAddress = check.string("address", o.address, "this node's loopback address");
    this.port = check.int("port", o.port ?? 11212, 1, 65535);
    this.destinations = o.peers.filter((p) => p !== o.address);
  }

  /** Binds the socket; a failed bind leaves the transport stopped. */
  start(): Promise<void> {
    this.starting ??= this.bind().catch((e: unknown) => {
      this.starting = undefined;
      throw e;
    });
    return this.starting;
  }

  private async bind(): Promise<void> {
    const socket = createSocket({ type: "udp4", reuseAddr: false });
    socket.on("message", (msg, rinfo) => {
      const receivedAt = performance.now();
      if (rinfo.address === this.sourceAddress) return;
      this.receivers.deliver({
        family: 4,
        src: rinfo.address,
        dst: this.sourceAddress,
        message: new Uint8Array(msg),
        receivedAt,
      });
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", (e) => {
        socket.close();
        reject(
          new VrrpError(
            "ERR_TRANSPORT",
            `vrrp: cannot bind UDP loopback transport to ${this.sourceAddress}:${this.port}: ${e.message}`,
            { cause: e },
          ),
        );
      });
      socket.bind(this.port, this.sourceAddress, () => resolve());
    });
    socket.on("error", () => {});
    this.socket = socket;
  }

  /** Closes the socket. Idempotent. */
  async stop(): Promise<void> {
    const starting = this.starting;
    this.starting = undefined;
    await starting?.catch(() => undefined);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  send(dst: string, message: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket)
      return Promise.reject(
        new VrrpError(
          "ERR_TRANSPORT_CLOSED",
          `vrrp: send to ${dst}: UDP transport ${this.sourceAddress} is not started`,
        ),
      );
    return new Promise((resolve, reject) => {
      socket.send(message, this.port, dst, (e) =>
        e
          ? reject(new VrrpError("ERR_TRANSPORT", `vrrp: send to ${dst} failed: ${e.message}`, { cause: e }))
          : resolve(),
      );
    });
  }

  onMessage(fn: Parameters<Transport["onMessage"]>[0]): () => void {
    return this.receivers.add(fn);
  }
}
