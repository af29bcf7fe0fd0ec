/**
 * Flow handoff: when a VIP moves between two live nodes (a planned handover, a failback that preempts), a
 * connection whose SYN reached the old holder just before the move sends its next packets to the new holder,
 * which has no socket for it and resets it. The new holder can hand such packets to the old holder for a short
 * grace period instead: a TCP packet for the VIP that is not a SYN and that conntrack has not seen open here
 * (`ct state new`: a flow picked up mid-stream) is sent on to the old holder's address (nft `dup to … device …`:
 * the same packet, its TTL one less, to the peer's MAC; then dropped here). The old holder still holds the VIP
 * while it drains, finds its socket and answers the client directly. Flows this node accepted since `start()` are
 * established in conntrack and never match: start it before the node serves the VIP.
 *
 * What the caller must keep true: only the node that just took the VIP forwards, to one peer at a time; the old
 * holder keeps the VIP for longer than the grace period. A peer that no longer holds the VIP drops what it gets
 * when it does not route — one that routes (ip_forward) sends it back to the VIP's holder, which sends it on again
 * until the TTL runs out — so keep the grace inside the old holder's drain.
 *
 * `handoffCommands` is pure (options in, nft text out); `FlowHandoff` applies them through an `Nft` runner, in
 * call order. The grace period ends in the kernel (a set element's timeout), so a handoff ends even if this
 * process dies. One table of its own (family ip), created at start, deleted at stop; the rule counts what it
 * forwarded (`nft list table ip <table>`).
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
 * What `start` applies: the table, recreated empty. Its prerouting chain (after conntrack: priority mangle) lets
 * every packet of a flow conntrack knows established pass at once — a rule that needs conntrack, so that the
 * kernel tracks flows in this namespace from now on (it starts only once a rule needs it, and a flow it began
 * tracking mid-stream would look new) — and sends packets for a VIP in the set `active` to the chain `handoff`,
 * empty until `forward`. A VIP is in `active` with a timeout: the kernel itself ends a handoff after the grace
 * period, whatever becomes of this process.
 */
export function handoffTableCommands(c: FlowHandoffConfig): NftTextCommand[] {
  const t = c.table;
  return [
    { text: `add table ip ${t}` },
    { text: `delete table ip ${t}` },
    { text: `add table ip ${t}` },
    { text: `add set ip ${t} active { type ipv4_addr; flags timeout; }` },
    { text: `add chain ip ${t} handoff` },
    { text: `add chain ip ${t} prerouting { type filter hook prerouting priority mangle; policy accept; }` },
    { text: `add rule ip ${t} prerouting ct state established,related accept` },
    { text: `add rule ip ${t} prerouting ip daddr @active jump handoff` },
  ];
}

/**
 * Forwarding to `peer` (an IPv4 address) for `graceMs`, or none (`peer` undefined). The rule takes a TCP packet
 * for a served port that is not a SYN and that opened no flow conntrack knows (`ct state new`: picked up
 * mid-stream) — a flow some other node accepted — and sends it to the peer (`dup`: the same packet, its TTL one
 * less, to the peer's MAC), then drops it here.
 */
export function handoffCommands(c: FlowHandoffConfig, peer: string | undefined): NftTextCommand[] {
  const t = c.table;
  const out: NftTextCommand[] = [
    { text: `flush set ip ${t} active` },
    { text: `flush chain ip ${t} handoff` },
  ];
  if (peer === undefined) return out;
  out.push(
    {
      text:
        `add rule ip ${t} handoff tcp dport ${set(c.ports)} tcp flags & syn == 0 ct state new ` +
        `counter dup to ${peer} device "${c.device}" drop`,
    },
    { text: `add element ip ${t} active { ${c.vips.map((v) => `${v} timeout ${c.graceMs}ms`).join(", ")} }` },
  );
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
  /** The peer forwarding goes to, as last asked (the kernel follows in call order). */
  private current: string | undefined;
  /** The peer the last `forward` event named. */
  private shown: string | undefined;
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

  /** Creates the table; from now on this namespace tracks flows (start before accepting traffic for the VIP). */
  async start(): Promise<void> {
    if (this.running) return;
    await this.apply(handoffTableCommands(this.config));
    this.running = true;
  }

  /** Forward stray flows to `peer` for the grace period (from now); replaces an earlier peer. */
  async forward(peer: string): Promise<void> {
    if (!this.running)
      throw new KernelLbError(
        "ERR_NOT_RUNNING",
        "kernel-lb: the flow handoff is not started; start() it first",
      );
    if (typeof peer !== "string" || !isIPv4(peer))
      throw new KernelLbConfigError("peer", peer, "must be the previous holder's IPv4 address");
    this.clearTimer();
    this.current = peer;
    try {
      await this.apply(handoffCommands(this.config, peer));
    } catch (e) {
      if (this.current === peer) this.current = undefined;
      throw e;
    }
    if (this.current !== peer) return; // cancelled, replaced or stopped meanwhile: their apply comes after ours
    this.show(peer);
    // the kernel ends it (the set element's timeout); this only reports it
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (this.current !== peer) return;
      this.current = undefined;
      this.show(undefined);
    }, this.config.graceMs);
  }

  /** Stop forwarding now (also a `forward` still being applied). */
  async cancel(): Promise<void> {
    this.clearTimer();
    if (!this.running) return;
    this.current = undefined;
    await this.apply(handoffCommands(this.config, undefined));
    if (this.current === undefined) this.show(undefined);
  }

  async stop(): Promise<void> {
    this.clearTimer();
    if (this.running) {
      this.running = false;
      this.current = undefined;
      await this.apply([{ text: `delete table ip ${this.config.table}` }]);
      this.show(undefined);
    }
    if (this.ownsNft) await this.nft.stop?.();
  }

  private show(peer: string | undefined): void {
    if (peer === this.shown) return;
    this.shown = peer;
    this.emit("forward", { peer });
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
