/**
 * The shell: holds the services, programs the kernel through `Nft`, resyncs when the pools change.
 * Everything it decides comes from the pure parts (config, table, ruleset).
 */
import { emitError, systemTime, type Time } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { type ServiceConfig, serviceConfig, type VirtualServiceOptions } from "./config.js";
import { KernelLbConfigError, KernelLbError } from "./errors.js";
import { type Nft, NftRunner } from "./nft.js";
import {
  deviceCommands,
  masqueradeCommands,
  type NftCommand,
  removeCommands,
  tableCommands,
} from "./ruleset.js";
import { serviceUpdate } from "./slotmap.js";
import { computeTable, type ServiceTable, sameTable } from "./table.js";

/** Anything that announces pool changes: a `HealthChecker` from @lbkit/healthcheck fits. */
export interface ChangeSource {
  on(event: "change", fn: () => void): unknown;
  off(event: "change", fn: () => void): unknown;
}

export interface KernelDirectorOptions {
  /** the nftables tables lbkit owns (family inet for NAT, netdev for DR services); default "lbkit" */
  table?: string;
  services?: readonly VirtualServiceOptions[];
  /** default: the `nft` binary */
  nft?: Nft;
  /** resync after these emit `change` (health checkers bound to the pools) */
  watch?: readonly ChangeSource[];
  time?: Time;
}

export interface QuorumChange {
  /** the service */
  id: string;
  from: "up" | "down";
  to: "up" | "down";
  reason: "quorum";
  at: number;
  /** the sum of usable weights now */
  weight: number;
}

export interface SyncEvent {
  /** services whose kernel table changed */
  changed: string[];
  commands: number;
  /** how long nft took, ms */
  ms: number;
}

export interface KernelDirectorEvents {
  change: (e: QuorumChange) => void;
  sync: (e: SyncEvent) => void;
  error: (e: Error) => void;
}

export class KernelDirector extends EventEmitter<KernelDirectorEvents> {
  readonly table: string;
  private readonly nft: Nft;
  private readonly ownsNft: boolean;
  private readonly time: Time;
  private readonly configs = new Map<string, ServiceConfig>();
  private readonly applied = new Map<string, ServiceTable>();
  /** what each service's named slot map holds (services still programmed inline have none) */
  private readonly slotMaps = new Map<string, string[]>();
  private readonly watch: readonly ChangeSource[];
  private running = false;
  private starting: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private again = false;
  private readonly onChange = () => {
    if (this.running) this.sync().catch((e: Error) => emitError(this, e));
  };

  constructor(options: KernelDirectorOptions = {}) {
    super();
    const table = options.table ?? "lbkit";
    if (typeof table !== "string" || !/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(table))
      throw new KernelLbConfigError("table", table, "must be a letter then up to 31 of A-Z a-z 0-9 _");
    this.table = table;
    this.ownsNft = options.nft === undefined;
    this.nft = options.nft ?? new NftRunner();
    this.time = options.time ?? systemTime;
    this.watch = options.watch ?? [];
    for (const [i, s] of (options.services ?? []).entries()) this.addConfig(s, `services[${i}]`);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The tables as last programmed (or as they would be, before start). */
  services(): ServiceTable[] {
    return [...this.configs.values()].map((c) => this.applied.get(c.id) ?? computeTable(c, undefined));
  }

  /** Programs the whole table in one transaction, replacing what an earlier (crashed) run left. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.starting ??= (async () => {
      const tables = [...this.configs.values()].map((c) => computeTable(c, undefined));
      try {
        await this.nft.apply(tableCommands(this.table, tables));
      } catch (err) {
        if (this.ownsNft) await this.nft.stop?.();
        throw err;
      } finally {
        this.starting = undefined;
      }
      this.slotMaps.clear();
      for (const t of tables) this.applied.set(t.id, t);
      this.running = true;
      for (const w of this.watch) w.on("change", this.onChange);
      this.reportProblems(tables);
    })();
    return this.starting;
  }

  /** Removes the table (established flows keep their conntrack NAT until they end). */
  async stop(): Promise<void> {
    await this.starting?.catch(() => {});
    if (!this.running) return;
    this.running = false;
    for (const w of this.watch) w.off("change", this.onChange);
    await this.syncing?.catch(() => {});
    this.applied.clear();
    this.slotMaps.clear();
    try {
      await this.nft.apply(removeCommands(this.table));
    } finally {
      if (this.ownsNft) await this.nft.stop?.();
    }
  }

  /**
   * Reads every pool again and programs what changed, in one transaction. Calls made while one is in flight are
   * coalesced into one more run after it.
   */
  sync(): Promise<void> {
    if (!this.running)
      return Promise.reject(new KernelLbError("ERR_NOT_RUNNING", "kernel-lb: sync() before start()"));
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.again = false;
          await this.syncOnce();
        } while (this.again && this.running);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /** Adds a virtual service (programmed at once when running). */
  async addService(options: VirtualServiceOptions): Promise<void> {
    this.addConfig(options, "service");
    if (this.running) await this.sync();
  }

  async removeService(id: string): Promise<void> {
    if (!this.configs.delete(id))
      throw new KernelLbError("ERR_UNKNOWN_SERVICE", `kernel-lb: no service ${JSON.stringify(id)}`);
    if (this.running) await this.sync();
  }

  private addConfig(options: VirtualServiceOptions, at: string): void {
    const cfg = serviceConfig(options, at);
    if (this.configs.has(cfg.id))
      throw new KernelLbConfigError(`${at}.id`, cfg.id, "is already a service id");
    for (const other of this.configs.values())
      if (other.vip === cfg.vip && other.port === cfg.port && other.protocol === cfg.protocol)
        throw new KernelLbConfigError(
          `${at}.vip`,
          `${cfg.vip}:${cfg.port}/${cfg.protocol}`,
          `is already service ${JSON.stringify(other.id)}`,
        );
    this.configs.set(cfg.id, cfg);
  }

  private async syncOnce(): Promise<void> {
    const prevAll = [...this.applied.values()];
    const next = new Map<string, ServiceTable>();
    for (const c of this.configs.values()) next.set(c.id, computeTable(c, this.applied.get(c.id)?.up));
    const prelude: NftCommand[] = [];
    const commands: NftCommand[] = [];
    const changed: string[] = [];
    const maps = new Map(this.slotMaps);
    const update = (id: string, prev: ServiceTable | undefined, t: ServiceTable | undefined) => {
      const u = serviceUpdate(this.table, prev, t, maps.get(id));
      prelude.push(...u.prelude);
      commands.push(...u.commands);
      if (u.content) maps.set(id, u.content);
      else maps.delete(id);
      changed.push(id);
    };
    for (const [id, prev] of this.applied) if (!next.has(id)) update(id, prev, undefined);
    for (const [id, t] of next) {
      const prev = this.applied.get(id);
      if (!prev || !sameTable(prev, t)) update(id, prev, t);
    }
    commands.push(...masqueradeCommands(this.table, prevAll, [...next.values()]));
    commands.push(...deviceCommands(this.table, prevAll, [...next.values()]));
    const started = this.time.now();
    if (prelude.length > 0) await this.nft.apply(prelude); // empty named maps nothing refers to yet
    if (commands.length > 0) await this.nft.apply(commands);
    const ms = this.time.now() - started;
    const at = this.time.now();
    this.applied.clear();
    for (const [id, t] of next) this.applied.set(id, t);
    this.slotMaps.clear();
    for (const [id, c] of maps) this.slotMaps.set(id, c);
    for (const t of next.values()) {
      const prev = prevAll.find((p) => p.id === t.id);
      if (prev && prev.up !== t.up)
        this.emit("change", {
          id: t.id,
          from: prev.up ? "up" : "down",
          to: t.up ? "up" : "down",
          reason: "quorum",
          at,
          weight: t.weight,
        });
    }
    this.reportProblems([...next.values()]);
    if (changed.length > 0) this.emit("sync", { changed, commands: commands.length, ms });
  }

  private reportProblems(tables: readonly ServiceTable[]): void {
    for (const t of tables)
      for (const p of t.problems)
        emitError(
          this,
          new KernelLbError("ERR_MEMBER", `kernel-lb: service ${JSON.stringify(t.id)}: ${p}; left out`),
        );
  }
}
