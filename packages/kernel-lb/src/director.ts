/**
 * The nftables shell: programs the kernel through `Nft`, resyncs when the pools change. Everything it decides comes
 * from the pure parts (config, table, ruleset); the lifecycle it shares with `IpvsDirector` is `DirectorBase`'s.
 */
import { DirectorBase, type DirectorBaseOptions } from "./director-base.js";
import { KernelLbConfigError } from "./errors.js";
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

/** `DirectorBaseOptions` (services, watch, time) and the nftables side. */
export interface KernelDirectorOptions extends DirectorBaseOptions {
  /** the nftables tables lbkit owns (family inet for NAT, netdev for DR services); default "lbkit" */
  table?: string;
  /** default: the `nft` binary */
  nft?: Nft;
}

/** Virtual services programmed into nftables (see the README): `start()`, `stop()`, `sync()`, events. */
export class KernelDirector extends DirectorBase {
  readonly table: string;
  private readonly nft: Nft;
  private readonly ownsNft: boolean;
  /** what each service's named slot map holds (services still programmed inline have none) */
  private readonly slotMaps = new Map<string, string[]>();
  private starting: Promise<void> | undefined;

  constructor(options: KernelDirectorOptions = {}) {
    const table = options.table ?? "lbkit";
    if (typeof table !== "string" || !/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(table))
      throw new KernelLbConfigError("table", table, "must be a letter then up to 31 of A-Z a-z 0-9 _");
    super(options);
    this.table = table;
    this.ownsNft = options.nft === undefined;
    this.nft = options.nft ?? new NftRunner();
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
      await this.setRunning(true);
      this.reportProblems(tables);
    })();
    return this.starting;
  }

  /** Removes the table (established flows keep their conntrack NAT until they end). */
  async stop(): Promise<void> {
    await this.starting?.catch(() => {});
    if (!this.running) return;
    await this.setRunning(false);
    this.applied.clear();
    this.slotMaps.clear();
    try {
      await this.nft.apply(removeCommands(this.table));
    } finally {
      if (this.ownsNft) await this.nft.stop?.();
    }
  }

  protected async syncOnce(): Promise<void> {
    const prevAll = new Map(this.applied);
    const next = this.nextTables();
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
    for (const [id, prev] of prevAll) if (!next.has(id)) update(id, prev, undefined);
    for (const [id, t] of next) {
      const prev = prevAll.get(id);
      if (!prev || !sameTable(prev, t)) update(id, prev, t);
    }
    commands.push(...masqueradeCommands(this.table, [...prevAll.values()], [...next.values()]));
    commands.push(...deviceCommands(this.table, [...prevAll.values()], [...next.values()]));
    const started = this.time.now();
    if (prelude.length > 0) await this.nft.apply(prelude); // empty named maps nothing refers to yet
    if (commands.length > 0) await this.nft.apply(commands);
    const ms = this.time.now() - started;
    this.applied.clear();
    for (const [id, t] of next) this.applied.set(id, t);
    this.slotMaps.clear();
    for (const [id, c] of maps) this.slotMaps.set(id, c);
    this.synced(prevAll, next, { changed, commands: commands.length, ms });
  }
}
