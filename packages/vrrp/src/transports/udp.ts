/**
 * A UDP loopback transport for unprivileged development and demos. NON-STANDARD: VRRP messages ride in UDP
 * datagrams between 127.x.y.z addresses (each node binds its own loopback address, one shared port), so no
 * real VRRP peer (keepalived, a router) can hear them. Use the raw transport on a real segment.
 */
import { createSocket } from "node:dgram";
import type { ReceivedPacket } from "../codec.js";
import { VrrpError } from "../errors.js";
import type { Transport } from "./transport.js";

export interface UdpTransportOptions {
  /** this node's loopback address, e.g. "127.0.0.1" (it is also the primary address for tie-breaks) */
  address: string;
  /** every node's address, this one's included or not */
  peers: readonly string[];
  /** the shared UDP port (default 11212) */
  port?: number;
}

export async function createUdpTransport(o: UdpTransportOptions): Promise<Transport> {
  const port = o.port ?? 11212;
  const socket = createSocket({ type: "udp4", reuseAddr: false });
  const receivers: ((p: ReceivedPacket) => void)[] = [];
  socket.on("message", (msg, rinfo) => {
    const receivedAt = performance.now();
    if (rinfo.address === o.address) return;
    const packet: ReceivedPacket = {
      family: 4,
      src: rinfo.address,
      dst: o.address,
      message: new Uint8Array(msg),
      receivedAt,
    };
    for (const r of receivers) r(packet);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", (e) =>
      reject(
        new VrrpError(`vrrp: cannot bind UDP loopback transport to ${o.address}:${port}: ${e.message}`, {
          cause: e,
        }),
      ),
    );
    socket.bind(port, o.address, () => resolve());
  });
  socket.on("error", () => {});
  const peers = o.peers.filter((p) => p !== o.address);
  return {
    family: 4,
    sourceAddress: o.address,
    // v3's pseudo-header needs the destination; a datagram carries its own, so each peer is one destination
    destinations: peers,
    checksTtl: false,
    send(dst, message) {
      return new Promise((resolve, reject) => {
        socket.send(message, port, dst, (e) => (e ? reject(e) : resolve()));
      });
    },
    onMessage(fn) {
      receivers.push(fn);
    },
    close() {
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}
