/**
 * StickPeers (HAProxy `peers`): shares the stick tables of named backends with the other node of an HA pair,
 * so that a client stays on its server when its traffic moves from one proxy to the other. The protocol is
 * described in peers-codec.ts. This node listens on `bind` (receiving its peer's entries) and dials `peer`
 * (sending a full resync, then every entry it stores); a lost link is redialled every `reconnect` ms.
 */
import net from "node:net";
import { emitError, systemTime, type Time, type TimerHandle } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import type { Backend } from "../backend.js";
import { type BindOption, parseBind } from "../config.js";
import { ProxyConfigError, ProxyError } from "../errors.js";
import { decodeLine, encodeEntry, encodeHello, LineSplitter } from "./peers-codec.js";

export interface StickPeersOptions {
  /** The proxy whose backends' stick tables are shared (anything with `backend(id)`); it is not started or stopped. */
  proxy: { backend(id: string): Backend };
  /** Backend ids whose stick tables are shared (each must have `stick`). */
  tables: readonly string[];
  /** This node's name (in the hello line). */
  node: string;
  /** Where this node listens for its peer, e.g. "10.0.0.1:10000". */
  bind: BindOption;
  /** The peer's listening address. */
  peer: BindOption;
  /** Redial interval, ms. Default 1000. */
  reconnect?: number;
  time?: Time;
}

export interface StickPeersEvents {
  /** The outgoing link's state: `up` once connected, `down` when lost. */
  change: (e: { id: string; from: "up" | "down"; to: "up" | "down"; reason: string; at: number }) => void;
  error: (err: Error) => void;
}

export class StickPeers extends EventEmitter<StickPeersEvents> {
  readonly id: string;
  private readonly backends: Backend[];
  private readonly bind: { host: string | undefined; port: number };
  private readonly peer: { host: string | undefined; port: number };
  private readonly reconnect: number;
  private readonly time: Time;
  private server: net.Server | undefined;
  private out: net.Socket | undefined;
  private outUp = false;
  private readonly inbound = new Set<net.Socket>();
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(options: StickPeersOptions) {
    super();
    if (typeof options !== "object" || options === null)
      throw new ProxyConfigError("peers", options, "must be { proxy, tables, node, bind, peer }");
    if (typeof options.node !== "string" || !options.node)
      throw new ProxyConfigError("peers.node", options.node, "must be this node's name");
    this.id = options.node;
    this.bind = parseBind("peers.bind", options.bind);
    this.peer = parseBind("peers.peer", options.peer);
    if (!this.peer.host)
      throw new ProxyConfigError("peers.peer", options.peer, "must name the peer's address");
    this.reconnect = options.reconnect ?? 1000;
    if (!Number.isInteger(this.reconnect) || this.reconnect < 1)
      throw new ProxyConfigError("peers.reconnect", options.reconnect, "must be milliseconds, at least 1");
    this.time = options.time ?? systemTime;
    if (!Array.isArray(options.tables) || options.tables.length === 0)
      throw new ProxyConfigError(
        "peers.tables",
        options.tables,
        "must list the backend ids whose tables are shared",
      );
    this.backends = options.tables.map((id) => {
      const be = options.proxy.backend(id);
      if (!be.persistence?.table)
        throw new ProxyConfigError("peers.tables", id, "has no stick table (give the backend `stick`)");
      return be;
    });
  }

  /** The listening address once started. */
  address(): net.AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === "object" ? a : undefined;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const server = net.createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: this.bind.port, ...(this.bind.host ? { host: this.bind.host } : {}) }, () => {
        server.off("error", reject);
        resolve();
      });
    }).catch((e: Error) => {
      throw new ProxyError(`proxy: peers ${this.id} cannot listen: ${e.message}`, "ERR_LISTEN", { cause: e });
    });
    server.on("error", (e) =>
      emitError(this, new ProxyError(`proxy: peers ${this.id}: ${e.message}`, "ERR_LISTEN")),
    );
    this.server = server;
    this.running = true;
    for (const be of this.backends)
      (be.persistence as NonNullable<Backend["persistence"]>).onStore = (e) =>
        this.send(encodeEntry({ backend: be.id, key: e.key, server: e.server, age: this.time.now() - e.at }));
    this.dial();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const be of this.backends) if (be.persistence) be.persistence.onStore = undefined;
    if (this.timer !== undefined) this.time.clearTimeout(this.timer);
    this.timer = undefined;
    this.out?.destroy();
    this.out = undefined;
    for (const s of this.inbound) s.destroy();
    const server = this.server;
    this.server = undefined;
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  }

  private send(line: string): void {
    if (this.outUp) this.out?.write(line);
  }

  private dial(): void {
    if (!this.running) return;
    const s = net.connect({ host: this.peer.host, port: this.peer.port });
    this.out = s;
    s.setNoDelay(true);
    s.on("connect", () => {
      if (s !== this.out) return;
      this.outUp = true;
      const now = this.time.now();
      let dump = encodeHello(this.id);
      for (const be of this.backends) {
        const table = be.persistence?.table;
        if (!table) continue;
        for (const e of table.entries(now))
          dump += encodeEntry({ backend: be.id, key: e.key, server: e.server, age: now - e.at });
      }
      s.write(dump);
      this.emit("change", { id: this.id, from: "down", to: "up", reason: "connected", at: now });
    });
    s.on("data", () => {}); // nothing is expected back
    s.on("error", () => {}); // surfaced by 'close'
    s.on("close", () => {
      if (s !== this.out) return;
      if (this.outUp)
        this.emit("change", {
          id: this.id,
          from: "up",
          to: "down",
          reason: "link lost",
          at: this.time.now(),
        });
      this.outUp = false;
      this.out = undefined;
      if (this.running) this.timer = this.time.setTimeout(() => this.dial(), this.reconnect);
    });
  }

  private accept(s: net.Socket): void {
    this.inbound.add(s);
    const lines = new LineSplitter();
    let hello = false;
    s.setEncoding("utf8");
    s.on("error", () => {});
    s.on("close", () => this.inbound.delete(s));
    s.on("data", (chunk: string) => {
      const got = lines.push(chunk);
      if (!got) return void s.destroy();
      const now = this.time.now();
      for (const line of got) {
        const m = decodeLine(line);
        if (!m || (m.kind === "hello") === hello) return void s.destroy(); // one hello, first
        if (m.kind === "hello") {
          hello = true;
          continue;
        }
        const be = this.backends.find((b) => b.id === m.backend);
        be?.persistence?.table?.set(m.key, m.server, now, now - m.age);
      }
    });
  }
}
