/**
 * VRRP over raw IP protocol 112 (raw-socket), bound to one interface: multicast to 224.0.0.18 / ff02::12, or
 * unicast to keepalived-style `unicast_peer`s. IPv4 builds its own header like keepalived (IP_HDRINCL, TOS 0xc0,
 * TTL 255, source = the interface's primary address); IPv6 lets the kernel fill the header and the checksum
 * (IPV6_CHECKSUM at offset 6) with hop limit 255. Receive (RFC 5798 §7.1: TTL / hop limit 255): IPv4 raw
 * sockets deliver the IP header and the codec's TTL check discards anything else (IP_MINTTL is enforced for
 * TCP only, so it is not set); IPv6 raw sockets deliver the payload alone, so a BPF socket filter drops every
 * advert whose hop limit is not 255 in the kernel (see hop-limit-filter.ts; IPV6_MINHOPCOUNT is TCP-only too).
 */
import { endianness } from "node:os";
import {
  attachSocketFilter,
  encodeBpf,
  getInterface,
  type InterfaceInfo as LinkInfo,
  SO_COOKIE,
} from "@lbkit/arp";
import { type Family, moduleExports } from "@lbkit/core";
import { addressToBytes, canonicalAddress } from "../address.js";
import { type ReceivedPacket, VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_PROTOCOL, VRRP_TTL } from "../codec.js";
import { asVrrpError, VrrpError } from "../errors.js";
import { decodeIpv4Packet, encodeIpv4Packet } from "../ipv4.js";
import { hopLimitFilter } from "./hop-limit-filter.js";
import { Receivers, type Transport } from "./transport.js";

// Linux socket option numbers raw-socket does not export
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IPPROTO_IP = 0;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IPPROTO_IPV6 = 41;
const IPV6_CHECKSUM = 7;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_ADD_MEMBERSHIP = 20;

export interface RawTransportOptions {
  /** the interface VRRP runs on, e.g. "eth0" */
  interface: string;
  family?: Family;
  /** keepalived `unicast_src_ip`: default the interface's primary IPv4 address / its IPv6 link-local address */
  sourceAddress?: string;
  /** keepalived `unicast_peer`: send to these instead of the multicast group; accept adverts only from them */
  unicastPeers?: readonly string[];
  /** addresses never to pick as the source (the VIPs, which may already sit on the interface) */
  exclude?: readonly string[];
  /** the interface as already read with `getInterface(name, { addresses: true })` (saves a lookup) */
  link?: LinkInfo;
}

interface InterfaceInfo {
  ifindex: number;
  primary: string;
}

async function interfaceInfo(
  ifname: string,
  family: Family,
  exclude: readonly string[],
  unicast: boolean,
  known: LinkInfo | undefined,
): Promise<InterfaceInfo> {
  const link =
    known ??
    (await getInterface(ifname, { addresses: true }).catch((e: unknown) => {
      throw asVrrpError("ERR_INTERFACE", `interface ${ifname}`, e);
    }));
  const skip = new Set(exclude.map(canonicalAddress));
  const addrs = (link.addresses ?? []).filter((a) => a.family === family && !skip.has(a.address));
  const pick =
    family === 4
      ? addrs[0]
      : unicast
        ? // unicast peers are reached from a global address (the kernel would pick one anyway)
          addrs.find((a) => a.scope === 0 && !a.deprecated)
        : addrs.find((a) => a.address.startsWith("fe80:"));
  if (!pick)
    throw new VrrpError(
      "ERR_INTERFACE",
      `vrrp: interface ${ifname} has no ${family === 4 ? "IPv4 address" : unicast ? "global IPv6 address" : "IPv6 link-local address"} to send VRRP from`,
    );
  return { ifindex: link.ifindex, primary: pick.address };
}

/** Opens the socket (RawTransport.start() calls this); `close()` releases it. */
export async function createRawTransport(
  o: RawTransportOptions,
): Promise<Transport & { close(): Promise<void> }> {
  const lib = moduleExports(await import("raw-socket"));
  const family: Family = o.family ?? 4;
  const info = await interfaceInfo(
    o.interface,
    family,
    o.exclude ?? [],
    (o.unicastPeers ?? []).length > 0,
    o.link,
  );
  const src = o.sourceAddress ? canonicalAddress(o.sourceAddress) : info.primary;
  const peers = (o.unicastPeers ?? []).map(canonicalAddress);
  const group = family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6;
  const socket = lib.createSocket({
    protocol: VRRP_PROTOCOL,
    addressFamily: family === 4 ? lib.AddressFamily.IPv4 : lib.AddressFamily.IPv6,
  });
  const receivers = new Receivers();
  const fail = (what: string, e: unknown): never => {
    socket.close();
    throw new VrrpError(
      "ERR_TRANSPORT",
      `vrrp: raw socket on ${o.interface}: ${what} failed: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  };
  const opt = (what: string, level: number, name: number, value: number | Buffer) => {
    try {
      if (typeof value === "number") socket.setOption(level, name, value);
      else socket.setOption(level, name, value, value.length);
    } catch (e) {
      fail(what, e);
    }
  };
  const ifname = Buffer.from(`${o.interface}\0`);
  opt("SO_BINDTODEVICE", SOL_SOCKET, SO_BINDTODEVICE, ifname);
  if (family === 4) {
    const local = Buffer.from(addressToBytes(src));
    opt("IP_HDRINCL", IPPROTO_IP, IP_HDRINCL, 1);
    opt("IP_MULTICAST_IF", IPPROTO_IP, IP_MULTICAST_IF, local);
    opt("IP_MULTICAST_TTL 255", IPPROTO_IP, IP_MULTICAST_TTL, VRRP_TTL);
    opt("IP_MULTICAST_LOOP 0", IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    // ip_mreq { group, interface address }: INADDR_ANY fails without a multicast route
    if (peers.length === 0)
      opt(
        "joining 224.0.0.18",
        IPPROTO_IP,
        IP_ADD_MEMBERSHIP,
        Buffer.concat([Buffer.from(addressToBytes(group)), local]),
      );
  } else {
    const index = Buffer.alloc(4);
    index.writeUInt32LE(info.ifindex);
    opt("IPV6_CHECKSUM 6", IPPROTO_IPV6, IPV6_CHECKSUM, 6);
    try {
      const cookie = Buffer.alloc(8);
      socket.getOption(SOL_SOCKET, SO_COOKIE, cookie, 8);
      // the cookie is a u64 in host byte order
      const id = endianness() === "LE" ? cookie.readBigUInt64LE(0) : cookie.readBigUInt64BE(0);
      attachSocketFilter(id, encodeBpf(hopLimitFilter(VRRP_TTL)));
    } catch (e) {
      fail("the hop-limit-255 socket filter", e);
    }
    opt("IPV6_MULTICAST_IF", IPPROTO_IPV6, IPV6_MULTICAST_IF, info.ifindex);
    opt("IPV6_MULTICAST_HOPS 255", IPPROTO_IPV6, IPV6_MULTICAST_HOPS, VRRP_TTL);
    opt("IPV6_UNICAST_HOPS 255", IPPROTO_IPV6, IPV6_UNICAST_HOPS, VRRP_TTL);
    opt("IPV6_MULTICAST_LOOP 0", IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    if (peers.length === 0)
      opt(
        "joining ff02::12",
        IPPROTO_IPV6,
        IPV6_ADD_MEMBERSHIP,
        Buffer.concat([Buffer.from(addressToBytes(group)), index]),
      );
  }
  const peerSet = new Set(peers);
  socket.on("message", (buffer: Buffer, source: string) => {
    const receivedAt = performance.now();
    let packet: ReceivedPacket;
    if (family === 4) {
      const ip = decodeIpv4Packet(new Uint8Array(buffer));
      if (!ip || ip.protocol !== VRRP_PROTOCOL) return;
      packet = { family, src: ip.src, dst: ip.dst, ttl: ip.ttl, message: ip.payload.slice(), receivedAt };
    } else {
      // IPv6 raw sockets deliver the payload only; the socket filter admitted hop limit 255 alone
      const from = canonicalAddress(source);
      packet = {
        family,
        src: from,
        dst: peers.length ? src : group,
        ttl: VRRP_TTL,
        message: new Uint8Array(buffer),
        receivedAt,
      };
    }
    if (packet.src === src) return;
    if (peerSet.size && !peerSet.has(packet.src)) return;
    receivers.deliver(packet);
  });
  socket.on("error", () => {});
  // raw-socket's send() queues the packet until its poll handle reports the socket writable: one event-loop turn
  // later, behind everything else that turn runs (0.15–0.45 ms measured on a backup's takeover). A raw socket is
  // nearly always writable, so send at once through the native binding's synchronous sendto when nothing is
  // queued; if it throws (EAGAIN, or any other error) the packet takes the queued path, which reports errors.
  const native = typeof socket.wrap?.send === "function" ? socket.wrap : undefined;
  let queued = 0;
  let closed = false;
  let id = Math.floor(Math.random() * 0xffff);
  const destinations = peers.length ? peers : [group];
  const frame = (dst: string, message: Uint8Array, ident: number): Buffer =>
    family === 4 ? Buffer.from(encodeIpv4Packet(message, { src, dst, id: ident })) : Buffer.from(message);
  // warm the framing (JIT) before the first real send: a backup's first advert as master must not pay for it
  for (let i = 0; i < 50; i++) for (const dst of destinations) frame(dst, new Uint8Array(20), i);
  const queue = (bytes: Buffer, dst: string) => {
    queued++;
    return new Promise<void>((resolve, reject) => {
      socket.send(bytes, 0, bytes.length, dst, (error) => {
        queued--;
        if (error)
          reject(
            new VrrpError(
              "ERR_TRANSPORT",
              `vrrp: send to ${dst} on ${o.interface} failed: ${error.message}`,
              {
                cause: error,
              },
            ),
          );
        else resolve();
      });
    });
  };
  return {
    family,
    sourceAddress: src,
    destinations,
    checksTtl: true,
    send(dst, message) {
      id = (id + 1) & 0xffff;
      // (the native send would reopen a closed socket, without any of the options above)
      if (closed)
        return Promise.reject(
          new VrrpError("ERR_TRANSPORT_CLOSED", `vrrp: send to ${dst} on ${o.interface}: transport closed`),
        );
      const bytes = frame(dst, message, id);
      if (native && queued === 0) {
        try {
          native.send(bytes, 0, bytes.length, dst, () => {});
          return Promise.resolve();
        } catch {
          // fall through to the queued send
        }
      }
      return queue(bytes, dst);
    },
    onMessage(fn) {
      return receivers.add(fn);
    },
    close() {
      if (!closed) socket.close();
      closed = true;
      return Promise.resolve();
    },
  };
}

/**
 * VRRP over raw IP protocol 112 on one interface. `start()` resolves the interface and opens the socket;
 * `stop()` closes it. Build it yourself only to share it or to pass options the instance does not take;
 * otherwise a `VrrpInstance` opens and closes its own.
 */
export class RawTransport implements Transport {
  private open: (Transport & { close(): Promise<void> }) | undefined;
  private starting: Promise<void> | undefined;
  private readonly receivers = new Receivers();
  private readonly options: RawTransportOptions;

  constructor(o: RawTransportOptions) {
    this.options = { ...o };
  }

  get family(): Family {
    return this.options.family ?? 4;
  }
  /** the advert source; known once started */
  get sourceAddress(): string {
    return this.open?.sourceAddress ?? this.options.sourceAddress ?? "";
  }
  get destinations(): readonly string[] {
    return this.open?.destinations ?? [];
  }
  readonly checksTtl = true;

  /** Opens the socket; a failure (no such interface, no address, no privilege) leaves it stopped. */
  start(): Promise<void> {
    this.starting ??= createRawTransport(this.options).then(
      (t) => {
        this.open = t;
        t.onMessage((p) => this.receivers.deliver(p));
      },
      (e: unknown) => {
        this.starting = undefined;
        throw e;
      },
    );
    return this.starting;
  }

  /** Closes the socket. Idempotent, safe while start() runs. */
  async stop(): Promise<void> {
    const starting = this.starting;
    this.starting = undefined;
    await starting?.catch(() => undefined);
    const t = this.open;
    this.open = undefined;
    await t?.close();
  }

  send(dst: string, message: Uint8Array): Promise<void> {
    if (!this.open)
      return Promise.reject(
        new VrrpError(
          "ERR_TRANSPORT_CLOSED",
          `vrrp: send to ${dst} on ${this.options.interface}: transport not started`,
        ),
      );
    return this.open.send(dst, message);
  }

  onMessage(fn: (p: ReceivedPacket) => void): () => void {
    return this.receivers.add(fn);
  }
}
