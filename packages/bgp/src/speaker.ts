/**
 * BgpSpeaker: this balancer's routes in a running GoBGP daemon, driven over its gRPC API. It configures the
 * daemon's global settings and neighbors, keeps the VIP routes announced while the trackers are healthy (with
 * hysteresis), reports session states from the WatchEvent stream, runs the BFD speaker, and drains on request.
 * Slightly over 350 lines: it is only wiring (daemon calls, tracker and BFD events); route, neighbor and hysteresis
 * logic are pure and live in their own files.
 */
import { emitError, parseIp, sleep, systemTime, type Time, type TimerHandle } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { Bfd, type BfdChange } from "./bfd.js";
import type { BfdTimers } from "./bfd-machine.js";
import { asBgpError, BgpConfigError, BgpError, check } from "./errors.js";
import { GobgpClient, isCancelled } from "./gobgp.js";
import { Hysteresis, type RouteState } from "./hysteresis.js";
import {
  type Neighbor,
  type NeighborOptions,
  normalizeNeighbor,
  type SessionState,
  sessionState,
} from "./neighbor.js";
import { gobgpApi } from "./proto.js";
import { buildPath, type NormalizedRoute, normalizeRoute, type VipRoute } from "./route.js";

/** Anything that says this node must not carry traffic: the same shape that drives VRRP priority. */
export interface Tracker {
  readonly fault: boolean;
  on(event: "change", fn: () => void): unknown;
  off?(event: "change", fn: () => void): unknown;
}

export interface BgpSpeakerOptions {
  id?: string;
  /** the daemon's gRPC endpoint (gobgpd `--api-hosts`), e.g. "198.18.0.11:50051" */
  gobgp: { address: string; deadline?: number };
  localAs: number;
  /** an IPv4 address; also the IPv4 next hop unless `nextHop` is set */
  routerId: string;
  /** BGP port the daemon listens on; -1 (default) dials the routers only */
  listenPort?: number;
  nextHop?: string;
  nextHop6?: string;
  neighbors: readonly NeighborOptions[];
  /** the VIPs this node announces while healthy */
  routes?: readonly VipRoute[];
  /** announce only while none of these is in fault */
  tracks?: readonly Tracker[];
  /** ms of health before routes go out (default 0) */
  rise?: number;
  /** ms of ill-health before routes are withdrawn (default 0) */
  fall?: number;
  /** run a BFD speaker towards every neighbor from `localAddress` (the router runs `neighbor X bfd`) */
  bfd?: Partial<BfdTimers> & { localAddress: string; startDelay?: number };
  time?: Time;
}

export interface BgpChange {
  id: string;
  /** "routes" (this node's announcement), "peer" (a BGP session), "bfd" (a BFD session) */
  subject: "routes" | "peer" | "bfd";
  from: string;
  to: string;
  reason: string;
  at: number;
}

export interface DrainOptions {
  /** a counter of new flows (connections accepted); the drain waits until it stops moving */
  activity?: () => number;
  /** ms without new flows that count as "the router moved them away" (default 1000) */
  quiet?: number;
  /** ms before the drain fails with ERR_DRAIN_TIMEOUT (default 30000) */
  timeout?: number;
}

interface Events {
  change: (e: BgpChange) => void;
  error: (e: BgpError) => void;
}

const KNOWN = [
  "id",
  "gobgp",
  "localAs",
  "routerId",
  "listenPort",
  "nextHop",
  "nextHop6",
  "neighbors",
  "routes",
];
const MORE = ["tracks", "rise", "fall", "bfd", "time"];

export class BgpSpeaker extends EventEmitter<Events> {
  readonly id: string;
  readonly localAs: number;
  readonly routerId: string;
  readonly neighbors: readonly Neighbor[];
  private readonly o: BgpSpeakerOptions;
  private readonly time: Time;
  private readonly routes = new Map<string, NormalizedRoute>();
  private readonly installed = new Map<string, Uint8Array>();
  private readonly sessions = new Map<string, SessionState>();
  private hysteresis: Hysteresis;
  private client: GobgpClient | undefined;
  private watch: { cancel(): void } | undefined;
  private bfd: Bfd | undefined;
  private bfdDelay = 0;
  private readonly bfdTimers = new Set<TimerHandle>();
  private timer: TimerHandle | undefined;
  private starting: Promise<void> | undefined;
  private draining = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly onTrack = () => this.evaluate();

  constructor(o: BgpSpeakerOptions) {
    super();
    check.object("", o, [...KNOWN, ...MORE]);
    this.o = o;
    check.object("gobgp", o.gobgp, ["address", "deadline"]);
    check.string("gobgp.address", o.gobgp.address, 'host:port of gobgpd --api-hosts, e.g. "127.0.0.1:50051"');
    this.localAs = check.int("localAs", o.localAs, 1, 0xffffffff);
    const rid = parseIp(o.routerId);
    if (rid?.family !== 4) throw new BgpConfigError("routerId", o.routerId, "must be an IPv4 address");
    this.routerId = rid.text;
    this.id = o.id === undefined ? this.routerId : check.string("id", o.id);
    if (!Array.isArray(o.neighbors) || o.neighbors.length === 0)
      throw new BgpConfigError("neighbors", o.neighbors, "must list at least one router to peer with");
    this.neighbors = o.neighbors.map((n, i) => normalizeNeighbor(n, `neighbors[${i}]`));
    for (const [i, r] of (o.routes ?? []).entries()) this.addRoute(normalizeRoute(r, `routes[${i}]`));
    const rise = check.ms("rise", o.rise ?? 0, 0);
    const fall = check.ms("fall", o.fall ?? 0, 0);
    if (o.listenPort !== undefined) check.int("listenPort", o.listenPort, -1, 65535);
    this.time = o.time ?? systemTime;
    this.hysteresis = new Hysteresis(rise, fall, this.time.now());
    if (o.bfd) {
      const { startDelay, ...bfd } = o.bfd;
      this.bfdDelay = check.ms("bfd.startDelay", startDelay ?? 1000, 0, 60_000);
      const peers = this.neighbors.map((n) => n.address);
      // each BFD session starts once its BGP session is first established: FRR re-creates its BFD session when
      // the BGP session comes up (source and interface learned), and an Up session torn down then would reset BGP
      this.bfd = new Bfd({ ...bfd, peers, startPeers: false, time: this.time });
    }
  }

  /** "announced" while this node's routes are (meant to be) in the daemon, "withdrawn" otherwise. */
  get state(): RouteState {
    return this.hysteresis.state === "announced" && !this.draining ? "announced" : "withdrawn";
  }

  /** Session state per neighbor address, from the daemon's WatchEvent stream. */
  peers(): Map<string, SessionState> {
    return new Map(this.sessions);
  }

  /** Adds (or replaces) a VIP route; it goes out whenever this node is announcing. */
  announce(route: VipRoute): Promise<void> {
    this.addRoute(normalizeRoute(route));
    return this.reconcile();
  }

  /** Removes a VIP route from this node's set. */
  withdraw(prefix: string): Promise<void> {
    this.routes.delete(normalizeRoute({ prefix }).prefix);
    return this.reconcile();
  }

  start(): Promise<void> {
    this.starting ??= this.open().catch(async (e: unknown) => {
      this.starting = undefined;
      await this.release();
      throw asBgpError("ERR_DAEMON", `${this.id}: start against gobgpd at ${this.o.gobgp.address}`, e);
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    const starting = this.starting;
    if (!starting) return;
    this.starting = undefined;
    await starting.catch(() => undefined);
    await this.release();
  }

  /**
   * Planned removal: withdraw every route, then wait until `activity` (new flows) has not moved for `quiet` ms —
   * the router has moved new flows to the other balancers. The caller then drains its connections and stops.
   */
  async drain(o: DrainOptions = {}): Promise<{ withdrawnAt: number; quietAt: number }> {
    if (!this.starting)
      throw new BgpError("ERR_NOT_RUNNING", `bgp: ${this.id}: drain() needs a started speaker`);
    const quiet = check.ms("drain.quiet", o.quiet ?? 1000, 0);
    const timeout = check.ms("drain.timeout", o.timeout ?? 30_000, 0);
    const from = this.state;
    this.draining = true;
    this.emitRoutes(from, "drain");
    await this.reconcile();
    const withdrawnAt = this.time.now();
    let last = o.activity?.() ?? 0;
    let lastMove = withdrawnAt;
    for (;;) {
      const now = this.time.now();
      const count = o.activity?.() ?? 0;
      if (count !== last) [last, lastMove] = [count, now];
      if (now - lastMove >= quiet) return { withdrawnAt, quietAt: now };
      if (now - withdrawnAt >= timeout)
        throw new BgpError(
          "ERR_DRAIN_TIMEOUT",
          `bgp: ${this.id}: new flows still arrive ${timeout} ms after withdrawing; check the router's ECMP and the other balancers`,
        );
      await sleep(this.time, Math.min(50, quiet));
    }
  }

  /** Ends a drain: routes go out again while healthy. */
  undrain(): Promise<void> {
    const from = this.state;
    this.draining = false;
    this.emitRoutes(from, "undrain");
    return this.reconcile();
  }

  private addRoute(r: NormalizedRoute): void {
    if (r.family === 6 && !this.o.nextHop6)
      throw new BgpConfigError("nextHop6", this.o.nextHop6, `is needed to announce IPv6 route ${r.prefix}`);
    this.routes.set(r.prefix, r);
  }

  private async open(): Promise<void> {
    // every run starts withdrawn, not draining: routes go out after `rise` of health, as on the first start
    this.hysteresis = new Hysteresis(this.hysteresis.rise, this.hysteresis.fall, this.time.now());
    this.draining = false;
    const client = new GobgpClient(this.o.gobgp.address, this.o.gobgp.deadline);
    this.client = client;
    const global = { asn: this.localAs, routerId: this.routerId, listenPort: this.o.listenPort ?? -1 };
    // the speaker owns the daemon's BGP instance: one left by a crashed predecessor is replaced
    await client.call("startBgp", { global }).catch(async (e: Error) => {
      if (!/already/i.test(e.message)) throw e;
      await client.call("stopBgp", {});
      await client.call("startBgp", { global });
    });
    const ready = this.watchPeers(client);
    for (const n of this.neighbors) await client.call("addPeer", { peer: n.peer(this.localAs) });
    await ready;
    if (this.bfd) {
      this.bfd.on("change", this.onBfd);
      await this.bfd.start();
      for (const [addr, state] of this.sessions) if (state === "established") this.startBfd(addr);
    }
    for (const t of this.o.tracks ?? []) t.on("change", this.onTrack);
    this.evaluate();
  }

  private async release(): Promise<void> {
    for (const t of this.o.tracks ?? []) t.off?.("change", this.onTrack);
    if (this.timer !== undefined) this.time.clearTimeout(this.timer);
    this.timer = undefined;
    this.watch?.cancel();
    this.watch = undefined;
    await this.queue.catch(() => undefined);
    for (const t of this.bfdTimers) this.time.clearTimeout(t);
    this.bfdTimers.clear();
    if (this.bfd) {
      this.bfd.off("change", this.onBfd);
      await this.bfd.stop();
    }
    const client = this.client;
    this.client = undefined;
    this.installed.clear();
    this.sessions.clear();
    if (client) {
      await client.call("stopBgp", {}).catch(() => undefined); // sends Cease to every router: routes go at once
      client.close();
    }
  }

  private watchPeers(client: GobgpClient): Promise<void> {
    const stream = client.stream("watchEvent", { peer: {} });
    this.watch = stream;
    return new Promise((resolve, reject) => {
      stream.on("data", (ev: { peer?: { type: string; peer?: Record<string, never> } }) => {
        if (!ev.peer) return;
        if (ev.peer.type === "END_OF_INIT") resolve();
        const p = ev.peer.peer as { state?: { neighborAddress?: string; sessionState?: string } } | undefined;
        const addr = p?.state?.neighborAddress;
        if (!addr) return;
        const to = sessionState(p.state?.sessionState);
        const from = this.sessions.get(addr) ?? "idle";
        this.sessions.set(addr, to);
        // BFD follows the BGP session, as FRR's does: started once it is established, ended when it drops
        if (to === "established") this.startBfd(addr);
        else if (from === "established") this.bfd?.stopPeer(addr);
        if (from !== to)
          this.emit("change", { id: addr, subject: "peer", from, to, reason: "gobgp", at: this.time.now() });
      });
      stream.on("error", (e) => {
        if (isCancelled(e)) return;
        reject(e);
        emitError(this, asBgpError("ERR_WATCH", `${this.id}: gobgpd event stream`, e));
      });
      // GoBGP 3.10 sends END_OF_INIT only when there were peers to replay; do not wait for it on an empty daemon
      setImmediate(resolve);
    });
  }

  /**
   * Starts the BFD session with a neighbor `bfd.startDelay` ms after its BGP session is established: FRR re-creates
   * its BFD session for a peer when the BGP session comes up (it learns the source and interface then); a session
   * already Up on our side at that moment goes Down and FRR resets the BGP session it has just brought up.
   */
  private startBfd(addr: string): void {
    const bfd = this.bfd;
    if (!bfd || bfd.state(addr) !== undefined) return;
    const t = this.time.setTimeout(() => {
      this.bfdTimers.delete(t);
      if (this.bfd === bfd && this.starting && this.sessions.get(addr) === "established") bfd.startPeer(addr);
    }, this.bfdDelay);
    this.bfdTimers.add(t);
  }

  private readonly onBfd = (e: BfdChange) => {
    this.emit("change", { id: e.id, subject: "bfd", from: e.from, to: e.to, reason: e.reason, at: e.at });
  };

  /** Reads the trackers into the hysteresis and schedules its next step. */
  private evaluate(): void {
    if (!this.starting) return;
    const now = this.time.now();
    this.hysteresis.set(!(this.o.tracks ?? []).some((t) => t.fault), now);
    const from = this.state;
    const moved = this.hysteresis.step(now);
    if (moved) {
      this.emitRoutes(from, moved === "announced" ? "healthy" : "unhealthy");
      void this.reconcile();
    }
    if (this.timer !== undefined) this.time.clearTimeout(this.timer);
    this.timer = undefined;
    const at = this.hysteresis.deadline;
    if (at !== undefined) this.timer = this.time.setTimeout(() => this.evaluate(), Math.max(0, at - now));
  }

  private emitRoutes(from: RouteState, reason: string): void {
    const to = this.state;
    if (from !== to)
      this.emit("change", { id: this.id, subject: "routes", from, to, reason, at: this.time.now() });
  }

  /** Makes the daemon's paths match the wanted set; serialized so calls never interleave. */
  private reconcile(): Promise<void> {
    const run = async () => {
      const client = this.client;
      if (!client) return;
      const want = this.state === "announced" ? this.routes : new Map<string, NormalizedRoute>();
      for (const [prefix, uuid] of [...this.installed]) {
        if (want.has(prefix)) continue;
        await client.call("deletePath", { tableType: "GLOBAL", uuid });
        this.installed.delete(prefix);
      }
      const { pack } = gobgpApi();
      for (const [prefix, r] of want) {
        if (this.installed.has(prefix)) continue;
        const nh = r.family === 4 ? (this.o.nextHop ?? this.routerId) : this.o.nextHop6!;
        const res = await client.call<{ uuid: Uint8Array }>("addPath", {
          tableType: "GLOBAL",
          path: buildPath(r, nh, this.localAs, pack),
        });
        this.installed.set(prefix, res.uuid);
      }
    };
    this.queue = this.queue.then(run).catch((e: unknown) => {
      emitError(this, asBgpError("ERR_DAEMON", `${this.id}: updating routes in gobgpd`, e));
    });
    return this.queue;
  }
}
