/**
 * The lifecycle both directors share — the services and their pools, the watch list, `sync()` coalescing, quorum
 * `change` events, `ERR_MEMBER` reports — around the one thing each does its own way: programming a table change
 * into the kernel (nftables for `KernelDirector`, IPVS for `IpvsDirector`).
 */
import { emitError, systemTime, type Time } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { type ServiceConfig, serviceConfig, type VirtualServiceOptions } from "./config.js";
import { KernelLbConfigError, KernelLbError } from "./errors.js";
import { computeTable, type ServiceTable } from "./table.js";

/** Anything that announces pool changes: a `HealthChecker` from @lbkit/healthcheck fits. */
export interface ChangeSource {
  on(event: "change", fn: () => void): unknown;
  off(event: "change", fn: () => void): unknown;
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
  /** how long the kernel took (nft, or the IPVS requests), ms */
  ms: number;
}

export interface KernelDirectorEvents {
  change: (e: QuorumChange) => void;
  sync: (e: SyncEvent) => void;
  error: (e: Error) => void;
}

/** The options every director takes. */
export interface DirectorBaseOptions {
  services?: readonly VirtualServiceOptions[];
  /** resync after these emit `change` (health checkers bound to the pools) */
  watch?: readonly ChangeSource[];
  time?: Time;
}

/** What `KernelDirector` and `IpvsDirector` share: services, `sync()`, events. Not constructed directly. */
export abstract class DirectorBase extends EventEmitter<KernelDirectorEvents> {
  protected readonly time: Time;
  protected readonly configs = new Map<string, ServiceConfig>();
  /** what the kernel holds, per service */
  protected readonly applied = new Map<string, ServiceTable>();
  private readonly watch: readonly ChangeSource[];
  protected running = false;
  private syncing: Promise<void> | undefined;
  private again = false;
  private readonly onChange = () => {
    if (this.running) this.sync().catch((e: Error) => emitError(this, e));
  };

  constructor(options: DirectorBaseOptions) {
    super();
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

  /**
   * Reads every pool again and programs what changed. Calls made while one is in flight are coalesced into one
   * more run after it.
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

  /** Removes a virtual service (from the kernel at once when running). */
  async removeService(id: string): Promise<void> {
    if (!this.configs.delete(id))
      throw new KernelLbError("ERR_UNKNOWN_SERVICE", `kernel-lb: no service ${JSON.stringify(id)}`);
    if (this.running) await this.sync();
  }

  /** One sync: program what changed since `applied`. */
  protected abstract syncOnce(): Promise<void>;

  /** Marks the director running (or not) and (un)subscribes from the watch list; `stop` waits for a sync in flight. */
  protected async setRunning(on: boolean): Promise<void> {
    this.running = on;
    for (const w of this.watch) on ? w.on("change", this.onChange) : w.off("change", this.onChange);
    if (!on) await this.syncing?.catch(() => {});
  }

  /** The tables every service should have now. */
  protected nextTables(): Map<string, ServiceTable> {
    const next = new Map<string, ServiceTable>();
    for (const c of this.configs.values()) next.set(c.id, computeTable(c, this.applied.get(c.id)?.up));
    return next;
  }

  /** After a sync: quorum `change` events, `ERR_MEMBER` reports, the `sync` event. */
  protected synced(
    prev: ReadonlyMap<string, ServiceTable>,
    next: ReadonlyMap<string, ServiceTable>,
    e: SyncEvent,
  ): void {
    const at = this.time.now();
    for (const t of next.values()) {
      const was = prev.get(t.id);
      if (was && was.up !== t.up)
        this.emit("change", {
          id: t.id,
          from: was.up ? "up" : "down",
          to: t.up ? "up" : "down",
          reason: "quorum",
          at,
          weight: t.weight,
        });
    }
    this.reportProblems([...next.values()]);
    if (e.changed.length > 0) this.emit("sync", e);
  }

  protected reportProblems(tables: readonly ServiceTable[]): void {
    for (const t of tables)
      for (const p of t.problems)
        emitError(
          this,
          new KernelLbError("ERR_MEMBER", `kernel-lb: service ${JSON.stringify(t.id)}: ${p}; left out`),
        );
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
}
