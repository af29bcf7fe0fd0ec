/**
 * A BFD speaker (RFC 5880 asynchronous mode over RFC 5881 single-hop UDP): one receive socket on port 3784 of
 * `localAddress`, one send socket from a source port in 49152..65535 with TTL 255, a BfdMachine per peer. Thin
 * shell: it only moves bytes and timer ticks between the sockets and the pure machines.
 * RFC 5881 §5 GTSM: a BPF filter on the receive socket (gtsm.ts) empties every datagram whose TTL / Hop Limit is
 * not 255; they are counted in `dropped.ttl` and never reach a session.
 * Limits: no authentication, no Demand mode, no Echo.
 */
import { randomInt } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { attachSocketFilter, encodeBpf } from "@lbkit/arp";
import { emitError, parseIp, systemTime, type Time, type TimerHandle } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { type BfdDiag, type BfdState, decodeBfd, encodeBfd } from "./bfd-codec.js";
import { type BfdAction, BfdMachine, type BfdTimers } from "./bfd-machine.js";
import { asBgpError, BgpConfigError, type BgpError, check } from "./errors.js";
import { gtsmFilter } from "./gtsm.js";

export const BFD_PORT = 3784;

export interface BfdOptions extends Partial<BfdTimers> {
  /** the address this speaker sends from and listens on (the one the router's bfdd peers with) */
  localAddress: string;
  /** the peers' addresses (one session each) */
  peers: readonly string[];
  /** false: sessions start only on `startPeer(address)` (default true: all at start) */
  startPeers?: boolean;
  time?: Time;
}

export interface BfdChange {
  /** the peer's address */
  id: string;
  from: BfdState;
  to: BfdState;
  reason: BfdDiag;
  at: number;
}

interface Events {
  change: (e: BfdChange) => void;
  error: (e: BgpError) => void;
}

/** Received datagrams the speaker discarded, by reason (counted since construction). */
export interface BfdDrops {
  /** TTL / Hop Limit not 255 (RFC 5881 §5): emptied by the socket filter */
  ttl: number;
  /** not a valid control packet (RFC 5880 §6.8.6: short, wrong version or length, …) */
  malformed: number;
  /** from an address that is not a running session's peer */
  unknownPeer: number;
}

interface Session {
  machine: BfdMachine;
  timer: TimerHandle | undefined;
}

export class Bfd extends EventEmitter<Events> {
  readonly localAddress: string;
  readonly peers: readonly string[];
  readonly timers: BfdTimers;
  private readonly time: Time;
  private readonly family: 4 | 6;
  private rx: Socket | undefined;
  private tx: Socket | undefined;
  private readonly sessions = new Map<string, Session>();
  private starting: Promise<void> | undefined;
  private readonly startPeers: boolean;
  /** datagrams discarded before reaching a session, by reason */
  readonly dropped: BfdDrops = { ttl: 0, malformed: 0, unknownPeer: 0 };

  constructor(o: BfdOptions) {
    super();
    check.object("bfd", o, [
      "localAddress",
      "peers",
      "startPeers",
      "desiredMinTx",
      "requiredMinRx",
      "detectMult",
      "time",
    ]);
    const local = parseIp(o.localAddress);
    if (!local)
      throw new BgpConfigError("bfd.localAddress", o.localAddress, "must be an IPv4 or IPv6 address");
    this.localAddress = local.text;
    this.family = local.family;
    if (!Array.isArray(o.peers) || o.peers.length === 0)
      throw new BgpConfigError("bfd.peers", o.peers, "must list at least one peer address");
    this.peers = o.peers.map((p, i) => {
      const ip = parseIp(p);
      if (!ip || ip.family !== local.family)
        throw new BgpConfigError(
          `bfd.peers[${i}]`,
          p,
          `must be an IPv${local.family} address like localAddress`,
        );
      return ip.text;
    });
    this.timers = {
      desiredMinTx: check.ms("bfd.desiredMinTx", o.desiredMinTx ?? 300, 1, 60_000),
      requiredMinRx: check.ms("bfd.requiredMinRx", o.requiredMinRx ?? 300, 1, 60_000),
      detectMult: check.int("bfd.detectMult", o.detectMult ?? 3, 1, 255),
    };
    this.time = o.time ?? systemTime;
    this.startPeers = o.startPeers === undefined ? true : check.bool("bfd.startPeers", o.startPeers);
  }

  /** Starts the session with `peer` (one of `peers`) if it is not running; needs a started speaker. */
  startPeer(peer: string): void {
    const ip = parseIp(peer)?.text;
    if (!this.rx || !ip || !this.peers.includes(ip) || this.sessions.has(ip)) return;
    const s: Session = {
      machine: new BfdMachine(randomInt(1, 0xffffffff), this.timers, this.time.now()),
      timer: undefined,
    };
    this.sessions.set(ip, s);
    this.schedule(ip, s);
  }

  /** Ends the session with `peer` (AdminDown first, so the peer does not count it as a failure). */
  stopPeer(peer: string): void {
    const ip = parseIp(peer)?.text;
    const s = ip === undefined ? undefined : this.sessions.get(ip);
    if (!s || ip === undefined) return;
    this.perform(ip, s.machine.adminDown(this.time.now()));
    if (s.timer !== undefined) this.time.clearTimeout(s.timer);
    this.sessions.delete(ip);
  }

  /** The session state with `peer`, or undefined when not running. */
  state(peer: string): BfdState | undefined {
    return this.sessions.get(peer)?.machine.state;
  }

  start(): Promise<void> {
    this.starting ??= this.open().catch(async (e: unknown) => {
      this.release();
      this.starting = undefined;
      throw asBgpError("ERR_TRANSPORT", `bfd on ${this.localAddress}`, e);
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    const starting = this.starting;
    if (!starting) return;
    this.starting = undefined;
    await starting.catch(() => undefined);
    // tell the peers first (AdminDown is not a failure to them), then close
    for (const [peer, s] of this.sessions) this.perform(peer, s.machine.adminDown(this.time.now()));
    await new Promise<void>((r) => setImmediate(r));
    this.release();
  }

  private async open(): Promise<void> {
    const type = this.family === 4 ? "udp4" : "udp6";
    const rx = createSocket({ type, reuseAddr: true });
    this.rx = rx;
    rx.on("message", (msg, rinfo) => this.onMessage(msg, rinfo.address));
    rx.on("error", (e) =>
      emitError(this, asBgpError("ERR_TRANSPORT", `bfd receive on ${this.localAddress}`, e)),
    );
    await new Promise<void>((resolve, reject) => {
      rx.once("error", reject);
      rx.bind(BFD_PORT, this.localAddress, () => {
        rx.off("error", reject);
        resolve();
      });
    });
    attachGtsm(rx, this.family); // a descriptor exists once bound; no session runs yet
    this.tx = await bindSource(type, this.localAddress);
    this.tx.on("error", (e) =>
      emitError(this, asBgpError("ERR_TRANSPORT", `bfd send from ${this.localAddress}`, e)),
    );
    if (this.startPeers) for (const peer of this.peers) this.startPeer(peer);
  }

  private release(): void {
    for (const s of this.sessions.values()) if (s.timer !== undefined) this.time.clearTimeout(s.timer);
    this.sessions.clear();
    this.rx?.close();
    this.tx?.close();
    this.rx = undefined;
    this.tx = undefined;
  }

  private onMessage(msg: Buffer, from: string): void {
    if (msg.length === 0) {
      this.dropped.ttl++; // the GTSM filter emptied it
      return;
    }
    const s = this.sessions.get(from.startsWith("::ffff:") ? from.slice(7) : from);
    if (!s) {
      this.dropped.unknownPeer++;
      return;
    }
    const d = decodeBfd(msg);
    if (!d.ok) {
      this.dropped.malformed++;
      return;
    }
    this.perform(from, s.machine.receive(d.packet, this.time.now()));
    this.schedule(from, s);
  }

  private schedule(peer: string, s: Session): void {
    if (s.timer !== undefined) this.time.clearTimeout(s.timer);
    const delay = Math.max(0, s.machine.deadline - this.time.now());
    s.timer = this.time.setTimeout(() => {
      s.timer = undefined;
      if (this.sessions.get(peer) !== s) return;
      this.perform(peer, s.machine.tick(this.time.now(), Math.random()));
      this.schedule(peer, s);
    }, delay);
  }

  private perform(peer: string, actions: BfdAction[]): void {
    for (const a of actions) {
      if (a.type === "send") this.tx?.send(encodeBfd(a.packet), BFD_PORT, peer);
      else this.emit("change", { id: peer, from: a.from, to: a.to, reason: a.diag, at: this.time.now() });
    }
  }
}

/**
 * The GTSM filter on the receive socket. Node exposes no descriptor of a dgram socket, so it is read from the
 * socket's internal handle (Node 20–24 keep it under the "state symbol"); @lbkit/arp's addon attaches the filter.
 */
function attachGtsm(socket: Socket, family: 4 | 6): void {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === "state symbol");
  const fd = state && (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[state]?.handle?.fd;
  if (typeof fd !== "number" || fd < 0)
    throw new Error("the receive socket's descriptor is not reachable (Node's dgram internals changed)");
  attachSocketFilter(fd, encodeBpf(gtsmFilter(family)));
}

/** RFC 5881 §4: a source port in 49152..65535, TTL 255. */
async function bindSource(type: "udp4" | "udp6", address: string): Promise<Socket> {
  for (let attempt = 0; ; attempt++) {
    const s = createSocket({ type });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.bind(randomInt(49152, 65536), address, () => {
          s.off("error", reject);
          resolve();
        });
      });
      s.setTTL(255);
      return s;
    } catch (e) {
      s.close();
      if (attempt >= 16) throw e;
    }
  }
}
