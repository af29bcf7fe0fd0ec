/**
 * Flow handoff: when a VIP moves between two live nodes (a planned handover, a failback that preempts), a
 * connection whose SYN reached the old holder just before the move sends its next packets to the new holder,
 * which has no socket for it and resets it. The new holder can hand such packets to the old holder for a short
 * grace period instead: a TCP packet for the VIP that is not a SYN and that conntrack has not seen open here
 * (`ct state new,invalid`: a flow picked up mid-stream) is sent on to the old holder's address unchanged (nft
 * `dup to … device …`, then dropped here). The old holder still holds the VIP while it drains, finds its socket
 * and answers the client directly. Flows this node opened itself are established in conntrack and never match.
 *
 * The old holder must not forward such packets back (only the node that just took over forwards, and only
 * during the grace period), and should keep the VIP for at least as long as the grace period; after it lets the
 * VIP go, what it still receives is dropped by its kernel (a node that does not route) and the client's next
 * retransmission after the grace period is reset by the new holder, as it would have been without a handoff.
 *
 * `handoffCommands` is pure (options in, nft text out); `FlowHandoff` applies them through an `Nft` runner and
 * removes the rule when the grace period ends. One table of its own (family ip), created at start, deleted at
 * stop; the rule counts what it forwarded (`nft list table ip <table>` while it is in place).
 */
import { isIPv4 } from "node:net";
import { systemTimers, type TimerHandle, type Timers, validators } from "@lbkit/core";
import { EventEmitter } from "eventemitter3";
import { KernelLbConfigError, KernelLbError } from "./errors.js";
import { type Nft, NftRunner } from "./nft.js";
import type { NftTextCommand } from "./slotmap.js";

const v = validators((o, val, fix) => new KernelLbConfigError(o, val, fix));
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

export interface FlowHandoffOptions {
  /** The nftables table this handoff owns (family ip), replaced at start, removed at stop. Default `lbkit_handoff`. */
  table?: string;
  /** The virtual IPv4 addresses whose flows are handed off. */
  vips: readonly string[];
  /** The TCP ports served on them. */
  ports: readonly number[];
  /** The interface the peer is reached on (the VIP's interface). */
  device: string;
  /** How long forwarding lasts after `forward()`, ms (default 2000). Keep it within the old holder's drain. */
  graceMs?: number;
  /** Runs nft; default an `NftRunner` (the `nft` binary in this network namespace). */
  nft?: Nft;
  timers?: Timers;
}

export interface FlowHandoffConfig {
  table: string;
  vips: string[];
  ports: number[];
  device: string;
  graceMs: number;
}

export function flowHandoffConfig(o: FlowHandoffOptions): FlowHandoffConfig {
  v.object("options", o, ["table", "vips", "ports", "device", "graceMs", "nft", "timers"]);
  const table = o.table ?? "lbkit_handoff";
  if (typeof table !== "string" || !NAME.test(table))
    throw new KernelLbConfigError("table", table, "must be a letter then up to 31 letters, digits or _");
  if (!Array.isArray(o.vips) || o.vips.length === 0)
    throw new KernelLbConfigError("vips", o.vips, "must list at least one IPv4 address");
  const vips = o.vips.map((a, i) => {
    if (typeof a !== "string" || !isIPv4(a))
      throw new KernelLbConfigError(`vips[${i}]`, a, "must be an IPv4 address (the handoff is IPv4 only)");
    return a;
  });
  if (!Array.isArray(o.ports) || o.ports.length === 0)
    throw new KernelLbConfigError("ports", o.ports, "must list at least one TCP port");
  const ports = o.ports.map((p, i) => v.int(`ports[${i}]`, p, 1, 65_535));
  const device = v.string("device", o.device, "the interface the peer is reached on, e.g. eth0");
  if (!/^[^\s"/]{1,15}$/.test(device))
    throw new KernelLbConfigError("device", device, "must be an interface name (at most 15 characters)");
  const graceMs = v.ms("graceMs", o.graceMs ?? 2000, 1, 60_000);
  return { table, vips, ports, device, graceMs };
}

const set = (xs: readonly (string | number)[]) => (xs.length === 1 ? String(xs[0]) : `{ ${xs.join(", ")} }`);

/**
 * The table with its (empty) prerouting chain, after conntrack (priority -150, mangle): what `start` applies.
 * Replacing: an existing table of the name is flushed first.
 */
export function handoffTableCommands(c: FlowHandoffConfig): NftTextCommand[] {
  return [
    { text: `add table ip ${c.table}` },
    { text: `flush table ip ${c.table}` },
    {
      text: `add chain ip ${c.table} prerouting { type filter hook prerouting priority mangle; policy accept; }`,
    },
  ];
}

/** The chain's content: forwarding to `peer` (an IPv4 address), or nothing (`peer` undefined). */
export function handoffCommands(c: FlowHandoffConfig, peer: string | undefined): NftTextCommand[] {
  const out: NftTextCommand[] = [{ text: `flush chain ip ${c.table} prerouting` }];
  if (peer === undefined) return out;
  out.push({
    text:
      `add rule ip ${c.table} prerouting ip daddr ${set(c.vips)} tcp dport ${set(c.ports)} ` +
      `tcp flags & syn == 0 ct state new,invalid counter dup to ${peer} device "${c.device}" drop`,
  });
  return out;
}

export interface FlowHandoffEvents {
  /** Forwarding to `peer` began (`forward`) or ended (`peer` undefined: grace over, cancelled or stopped). */
  forward: (e: { peer: string | undefined }) => void;
  error: (err: Error) => void;
}

/**
 * Hands the flows of a VIP's previous holder back to it for a grace period after the VIP moved here.
 * `start()` creates the table, `forward(peer)` turns forwarding on (replacing any earlier peer) until the grace
 * period ends or `cancel()`, `stop()` deletes the table.
 */
export class FlowHandoff extends EventEmitter<FlowHandoffEvents> {
  readonly config: FlowHandoffConfig;
  private readonly nft: Nft;
  private readonly ownsNft: boolean;
  private readonly timers: Timers;
  private timer: TimerHandle | undefined;
  private running = false;
  private current: string | undefined;
  /** Applies run one after another, in call order. */
  private work: Promise<void> = Promise.resolve();

  constructor(options: FlowHandoffOptions) {
    super();
    this.config = flowHandoffConfig(options);
    this.ownsNft = options.nft === undefined;
    this.nft = options.nft ?? new NftRunner();
    this.timers = options.timers ?? systemTimers;
  }

  /** The peer flows are being forwarded to, if any. */
  get peer(): string | undefined {
    return this.current;
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.apply(handoffTableCommands(this.config));
    this.running = true;
  }

  /** Forward stray flows to `peer` for the grace period (from now). */
  async forward(peer: string): Promise<void> {
    if (!this.running)
      throw new KernelLbError(
        "ERR_NOT_RUNNING",
        "kernel-lb: the flow handoff is not started; start() it first",
      );
    if (typeof peer !== "string" || !isIPv4(peer))
      throw new KernelLbConfigError("peer", peer, "must be the previous holder's IPv4 address");
    this.clearTimer();
    await this.apply(handoffCommands(this.config, peer));
    this.current = peer;
    this.emit("forward", { peer });
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.cancel().catch((e: unknown) => this.emit("error", e as Error));
    }, this.config.graceMs);
  }

  /** Stop forwarding now. */
  async cancel(): Promise<void> {
    this.clearTimer();
    if (!this.running || this.current === undefined) return;
    this.current = undefined;
    await this.apply(handoffCommands(this.config, undefined));
    this.emit("forward", { peer: undefined });
  }

  async stop(): Promise<void> {
    this.clearTimer();
    if (this.running) {
      this.running = false;
      const was = this.current;
      this.current = undefined;
      await this.apply([{ text: `delete table ip ${this.config.table}` }]);
      if (was !== undefined) this.emit("forward", { peer: undefined });
    }
    if (this.ownsNft) await this.nft.stop?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private apply(commands: NftTextCommand[]): Promise<void> {
    const next = this.work.then(() => this.nft.apply(commands));
    this.work = next.catch(() => {});
    return next;
  }
}
