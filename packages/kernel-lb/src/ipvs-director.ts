/**
 * The IPVS shell: the same services, pools and events as `KernelDirector`, programmed into the kernel's IPVS
 * (LVS) through generic netlink instead of nftables. Each table change becomes the commands `ipvsCommands` gives,
 * sent one request at a time with NLM_F_ACK and each acknowledgement checked.
 */
import { constants } from "node:os";
import { DirectorBase, type DirectorBaseOptions } from "./director-base.js";
import { KernelLbConfigError, KernelLbError } from "./errors.js";
import { ackErrno, encodeGetFamily, familyIdOf } from "./genl.js";
import { type GenlChannel, openGenlChannel } from "./genl-socket.js";
import { encodeIpvs, type IpvsCommand, ipvsCommands } from "./ipvs.js";
import { computeTable, type ServiceTable, sameTable } from "./table.js";

const ESRCH = 3; // IPVS: no such service
const ENOENT = 2; // controller: no such family

/** `KernelDirector`'s options where they apply (`DirectorBaseOptions`; no `table`, IPVS services are keyed by address; `netlink` instead of `nft`). */
export interface IpvsDirectorOptions extends DirectorBaseOptions {
  /** default: a NETLINK_GENERIC socket opened at `start()`, closed at `stop()` */
  netlink?: () => Promise<GenlChannel>;
}

function errnoName(errno: number): string {
  const name = Object.entries(constants.errno).find(([, n]) => n === errno)?.[0];
  return name ? `${name} (${errno})` : `errno ${errno}`;
}

/** "NEW_DEST tcp 198.18.0.100:80 → 198.18.0.12:80": what a command is about, for error messages. */
export function describeIpvs(c: IpvsCommand): string {
  const host = (a: string, p: number) => (a.includes(":") ? `[${a}]:${p}` : `${a}:${p}`);
  const s = `${c.cmd} ${c.service.protocol} ${host(c.service.address, c.service.port)}`;
  return "dest" in c ? `${s} → ${host(c.dest.address, c.dest.port)}` : s;
}

/**
 * Virtual services programmed into the kernel's IPVS over generic netlink: `start()`, `stop()`, `sync()`,
 * `addService()`, `removeService()`, `services()` and the events `change`, `sync`, `error`, as `KernelDirector`.
 * `start()` rejects with `ERR_IPVS_MISSING` on a kernel without IPVS (`modprobe ip_vs`); a refused command rejects
 * with `ERR_IPVS`, naming it, its service and destination, and the errno.
 */
export class IpvsDirector extends DirectorBase {
  private readonly open: () => Promise<GenlChannel>;
  private channel: GenlChannel | undefined;
  private family = 0;
  private seq = 0;
  private starting: Promise<void> | undefined;

  constructor(options: IpvsDirectorOptions = {}) {
    super(options);
    if (options.netlink !== undefined && typeof options.netlink !== "function")
      throw new KernelLbConfigError("netlink", options.netlink, "must be a function opening a GenlChannel");
    this.open = options.netlink ?? (() => openGenlChannel());
  }

  /**
   * Resolves the "IPVS" family (rejects with `ERR_IPVS_MISSING` on a kernel without IPVS) and programs every
   * service, replacing a service of the same address an earlier (crashed) run left.
   */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.starting ??= (async () => {
      let channel: GenlChannel | undefined;
      try {
        channel = await this.open();
        this.channel = channel;
        this.family = await this.resolveFamily();
        const tables = [...this.configs.values()].map((c) => computeTable(c, undefined));
        for (const t of tables) await this.program(t.id, undefined, t, true);
        await this.setRunning(true);
        this.reportProblems(tables);
      } catch (err) {
        this.applied.clear();
        this.channel = undefined;
        channel?.close();
        throw err;
      } finally {
        this.starting = undefined;
      }
    })();
    return this.starting;
  }

  /** Deletes the services it programmed (IPVS drops their connection entries) and closes the socket. */
  async stop(): Promise<void> {
    await this.starting?.catch(() => {});
    if (!this.running) return;
    await this.setRunning(false);
    try {
      for (const [id, t] of this.applied) await this.program(id, t, undefined);
    } finally {
      this.applied.clear();
      this.channel?.close();
      this.channel = undefined;
    }
  }

  private async resolveFamily(): Promise<number> {
    const seq = ++this.seq;
    const answer = await this.channel!.request(encodeGetFamily("IPVS", seq), seq);
    const id = answer.map(familyIdOf).find((f) => f !== undefined);
    if (id !== undefined) return id;
    const errno = answer.map(ackErrno).find((e) => e !== undefined && e !== 0);
    if (errno === ENOENT)
      throw new KernelLbError(
        "ERR_IPVS_MISSING",
        'kernel-lb: generic-netlink family "IPVS" is unknown: this kernel has no IPVS (load it with `modprobe ip_vs`; a kernel built without CONFIG_IP_VS can use KernelDirector, the nftables path)',
      );
    throw new KernelLbError(
      "ERR_IPVS",
      `kernel-lb: resolving generic-netlink family "IPVS" failed: ${errno === undefined ? "no family id in the answer" : errnoName(errno)}`,
    );
  }

  /** Sends one command and checks its acknowledgement; `tolerate` is an errno that counts as done. */
  private async send(c: IpvsCommand, tolerate?: number): Promise<void> {
    const seq = ++this.seq;
    const answer = await this.channel!.request(encodeIpvs(c, this.family, seq), seq);
    const errno = answer.map(ackErrno).find((e) => e !== undefined);
    if (errno === 0 || errno === tolerate) return;
    throw new KernelLbError(
      "ERR_IPVS",
      `kernel-lb: IPVS refused ${describeIpvs(c)}: ${errno === undefined ? "no acknowledgement" : errnoName(errno)}`,
    );
  }

  /**
   * Takes service `id` from `prev` to `next`. `fresh`: first delete whatever the kernel holds at its address (a
   * crashed run's leftover, or a service whose last change failed half-way). A failure forgets the service, so the
   * next sync programs it afresh.
   */
  private async program(
    id: string,
    prev: ServiceTable | undefined,
    next: ServiceTable | undefined,
    fresh = false,
  ): Promise<number> {
    const cfg = this.configs.get(id);
    const commands = ipvsCommands(prev, next, cfg?.scheduler ?? "wrr");
    try {
      if (fresh && next)
        await this.send(
          { cmd: "DEL_SERVICE", service: { address: next.vip, port: next.port, protocol: next.protocol } },
          ESRCH,
        );
      for (const c of commands) await this.send(c, c.cmd.startsWith("DEL_") ? ESRCH : undefined);
    } catch (err) {
      this.applied.delete(id);
      throw err;
    }
    if (next) this.applied.set(id, next);
    else this.applied.delete(id);
    return commands.length + (fresh ? 1 : 0);
  }

  protected async syncOnce(): Promise<void> {
    const prevAll = new Map(this.applied);
    const next = this.nextTables();
    const changed: string[] = [];
    let commands = 0;
    const started = this.time.now();
    for (const [id, prev] of prevAll)
      if (!next.has(id)) {
        commands += await this.program(id, prev, undefined);
        changed.push(id);
      }
    for (const [id, t] of next) {
      const prev = prevAll.get(id);
      if (prev && sameTable(prev, t)) continue;
      commands += await this.program(id, prev, t, !prev);
      changed.push(id);
    }
    this.synced(prevAll, next, { changed, commands, ms: this.time.now() - started });
  }
}
