/**
 * Pure: a service's configuration and its pool as they are now → the table the kernel should hold for it
 * (distinct real-server targets, the slot order the map walks, quorum state). The director diffs tables and
 * programs only what changed.
 */
import { type Family, parseIp } from "@lbkit/core";
import type { MemberView, ServiceConfig } from "./config.js";
import { hashBuckets, weightedSequence } from "./slots.js";

export interface Target {
  /** nft chain that DNATs to this target */
  chain: string;
  address: string;
  port: number;
  /** pool server ids behind this target (several servers may share one address:port) */
  servers: string[];
  weight: number;
}

export interface ServiceTable {
  id: string;
  family: Family;
  vip: string;
  port: number;
  protocol: "tcp" | "udp";
  /** nft chain of the service */
  chain: string;
  /** `numgen` walks `slots` in order (rr, wrr under NAT); `jhash` indexes them by a hash of `hash` */
  mode: "numgen" | "jhash";
  /** what `jhash` hashes: the source address (sh), or the source address and port (rr, wrr under DR) */
  hash: "source" | "flow";
  /** keepalived `lb_kind` */
  kind: "nat" | "dr";
  /** the interface of a `dr` service */
  device: string | undefined;
  targets: Target[];
  /** indices into `targets`, the map's values in order; empty: nothing to balance to */
  slots: number[];
  /** quorum state (keepalived quorum/hysteresis) */
  up: boolean;
  /** sum of usable weights */
  weight: number;
  /** the sorry server, when it is the one taking new flows */
  sorry: Target | undefined;
  masquerade: boolean;
  /** servers left out because their address is missing or of the wrong family */
  problems: string[];
}

/** A name nft accepts whatever the id: `[A-Za-z0-9_]`, others hex-escaped. */
export function chainName(prefix: string, ...parts: string[]): string {
  return `${prefix}_${parts.map((p) => p.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)).join("__")}`;
}

function usable(s: MemberView): boolean {
  return s.state === "up" && s.weight > 0;
}

/**
 * @param wasUp the service's quorum state before (true for a new service: it starts up when quorum is met)
 */
export function computeTable(cfg: ServiceConfig, wasUp: boolean | undefined): ServiceTable {
  const problems: string[] = [];
  const chain = chainName("svc", cfg.id);
  const servers = cfg.pool.servers;
  const primaries = servers.filter((s) => !s.backup && usable(s));
  const chosen = primaries.length > 0 ? primaries : servers.filter((s) => s.backup && usable(s));
  const byKey = new Map<string, Target>();
  for (const s of chosen) {
    const ip = parseIp(s.address);
    if (!ip || ip.family !== cfg.family) {
      problems.push(
        `server ${JSON.stringify(s.id)} address ${JSON.stringify(s.address)} is not an IPv${cfg.family} address (the VIP's family)`,
      );
      continue;
    }
    const port = s.port ?? cfg.port;
    if (cfg.lbKind === "dr" && port !== cfg.port) {
      problems.push(
        `server ${JSON.stringify(s.id)} port ${port} is not the service's port ${cfg.port} (direct return cannot change it)`,
      );
      continue;
    }
    const key = `${ip.text}:${port}`;
    const t = byKey.get(key);
    if (t) {
      t.servers.push(s.id);
      t.weight += s.weight;
    } else
      byKey.set(key, {
        chain: chainName("m", cfg.id, ip.text, String(port)),
        address: ip.text,
        port,
        servers: [s.id],
        weight: s.weight,
      });
  }
  const targets = [...byKey.values()].sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0));
  const weight = targets.reduce((a, t) => a + t.weight, 0);
  const before = wasUp ?? weight >= cfg.quorum;
  const up = before ? weight >= cfg.quorum - cfg.hysteresis : weight >= cfg.quorum + cfg.hysteresis;
  const members = targets.map((t) => ({
    key: `${t.address}:${t.port}`,
    weight: cfg.scheduler === "rr" ? 1 : t.weight,
  }));
  let sorry: Target | undefined;
  let slots: number[];
  if (!up && cfg.sorryServer) {
    const { address, port } = cfg.sorryServer;
    sorry = { chain: chainName("sorry", cfg.id), address, port, servers: [], weight: 0 };
    slots = [];
  } else if (cfg.scheduler === "sh" || cfg.lbKind === "dr") {
    const buckets =
      cfg.buckets ??
      Math.min(65536, Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(1, targets.length) * 256))));
    slots = hashBuckets(members, buckets);
  } else slots = weightedSequence(members, cfg.maxSlots);
  return {
    id: cfg.id,
    family: cfg.family,
    vip: cfg.vip,
    port: cfg.port,
    protocol: cfg.protocol,
    chain,
    mode: cfg.scheduler === "sh" || cfg.lbKind === "dr" ? "jhash" : "numgen",
    hash: cfg.scheduler === "sh" ? "source" : "flow",
    kind: cfg.lbKind,
    device: cfg.device,
    targets,
    slots,
    up,
    weight,
    sorry,
    masquerade: cfg.masquerade,
    problems,
  };
}

/** Whether two tables program the same thing (quorum state and problems aside). */
export function sameTable(a: ServiceTable, b: ServiceTable): boolean {
  if (a.chain !== b.chain || a.vip !== b.vip || a.port !== b.port || a.protocol !== b.protocol) return false;
  if (a.mode !== b.mode || a.hash !== b.hash || a.masquerade !== b.masquerade) return false;
  if (a.kind !== b.kind || a.device !== b.device) return false;
  if (
    a.sorry?.chain !== b.sorry?.chain ||
    a.sorry?.address !== b.sorry?.address ||
    a.sorry?.port !== b.sorry?.port
  )
    return false;
  if (a.targets.length !== b.targets.length || a.slots.length !== b.slots.length) return false;
  for (let i = 0; i < a.targets.length; i++) if (a.targets[i]!.chain !== b.targets[i]!.chain) return false;
  for (let i = 0; i < a.slots.length; i++) if (a.slots[i] !== b.slots[i]) return false;
  return true;
}
