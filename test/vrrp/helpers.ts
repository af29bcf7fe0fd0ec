// Shared helpers for the VRRP network-namespace suites: lbkit nodes and keepalived in lab namespaces.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Lab, LabProcess } from "../lab/netns.js";
import { readPcap } from "../lab/pcap.js";

export const NODE_SCRIPT = fileURLToPath(new URL("./node.mjs", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Child processes run the built dist: build it (and the packages it depends on) once per suite. */
export function buildVrrp(): void {
  execFileSync("pnpm", ["--filter", "@lbkit/vrrp...", "build"], { cwd: ROOT, stdio: "ignore" });
}

export interface NodeEvent {
  t: number;
  event: string;
  reason?: string;
  from?: string;
  master?: string;
  [k: string]: unknown;
}

export function events(p: LabProcess): NodeEvent[] {
  return p
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as NodeEvent);
}

export async function waitEvent(
  p: LabProcess,
  event: string,
  after = 0,
  timeoutMs = 15_000,
): Promise<NodeEvent> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const e = events(p).find((x) => x.event === event && x.t >= after);
    if (e) return e;
    if (Date.now() > end)
      throw new Error(`no "${event}" after ${after} within ${timeoutMs} ms; output:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every process the suites start, so a failed test does not leave a speaker running into the next one. */
export const started: LabProcess[] = [];

export async function killAll(): Promise<void> {
  for (const p of started.splice(0)) {
    p.kill("SIGKILL");
    await p.exited;
  }
}

export function startLbkit(lab: Lab, node: string, opts: Record<string, unknown>): LabProcess {
  const p = lab.spawnNode(node, NODE_SCRIPT, [JSON.stringify(opts)]);
  started.push(p);
  return p;
}

/** `ip -o addr show dev eth0` in a node: the VIP lines. */
export async function vipsOn(lab: Lab, node: string, vip: string): Promise<string[]> {
  const { stdout } = await lab.exec(node, ["ip", "-o", "addr", "show", "dev", "eth0"]);
  return stdout.split("\n").filter((l) => l.includes(` ${vip}/`));
}

export async function waitVip(lab: Lab, node: string, vip: string, present: boolean, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if ((await vipsOn(lab, node, vip)).length > 0 === present) return;
    if (Date.now() > end)
      throw new Error(`VIP ${vip} ${present ? "never appeared on" : "never left"} ${node}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface KeepalivedOptions {
  name: string;
  vrid: number;
  priority: number;
  version: 2 | 3;
  /** seconds (keepalived advert_int) */
  advertInt: number;
  vip: string;
  authPass?: string;
  nopreempt?: boolean;
  unicastSrc?: string;
  unicastPeers?: string[];
}

/** Writes a keepalived.conf into the lab dir and runs keepalived in the node's namespace, in the foreground. */
export type KeepalivedProcess = LabProcess & { vrrpPidFile: string };

export function startKeepalived(lab: Lab, node: string, o: KeepalivedOptions): KeepalivedProcess {
  const lines = [
    "global_defs {",
    `  router_id ${o.name}`,
    `  vrrp_version ${o.version}`,
    "  vrrp_garp_master_delay 5",
    "  enable_script_security",
    "  script_user root",
    "}",
    `vrrp_instance VI_${o.vrid} {`,
    "  state BACKUP",
    "  interface eth0",
    `  virtual_router_id ${o.vrid}`,
    `  priority ${o.priority}`,
    `  advert_int ${o.advertInt}`,
    o.nopreempt ? "  nopreempt" : "",
    o.authPass ? `  authentication {\n    auth_type PASS\n    auth_pass ${o.authPass}\n  }` : "",
    o.unicastSrc ? `  unicast_src_ip ${o.unicastSrc}` : "",
    o.unicastPeers ? `  unicast_peer {\n${o.unicastPeers.map((p) => `    ${p}`).join("\n")}\n  }` : "",
    "  virtual_ipaddress {",
    `    ${o.vip} dev eth0`,
    "  }",
    "}",
  ];
  return runKeepalived(lab, node, o.name, lines);
}

/** Writes `lines` as keepalived-<name>.conf into the lab dir and runs keepalived on it in the node, in the foreground. */
export function runKeepalived(lab: Lab, node: string, name: string, lines: string[]): KeepalivedProcess {
  const conf = join(lab.dir, `keepalived-${name}.conf`);
  writeFileSync(conf, `${lines.filter((l) => l !== "").join("\n")}\n`);
  return spawnKeepalived(lab, node, name, conf);
}

/** Runs keepalived on an existing config file in the node: foreground, logging to the console, own pid files. */
export function spawnKeepalived(lab: Lab, node: string, name: string, conf: string): KeepalivedProcess {
  const pid = join(lab.dir, `keepalived-${name}`);
  const proc = lab.spawn(node, [
    "keepalived",
    "-n",
    "-l",
    "-D",
    "-P",
    "-f",
    conf,
    "-p",
    `${pid}.pid`,
    "-r",
    `${pid}-vrrp.pid`,
    "-c",
    `${pid}-check.pid`,
    "-i",
    name,
  ]);
  started.push(proc);
  return Object.assign(proc, { vrrpPidFile: `${pid}-vrrp.pid` });
}

/**
 * Crashes keepalived the way a power cut would: no priority-0 advert. Killing only the parent makes the VRRP
 * child shut down cleanly (it watches its parent), so stop the parent, SIGKILL the VRRP child, then the parent.
 */
export async function crashKeepalived(p: KeepalivedProcess): Promise<void> {
  const child = Number(readFileSync(p.vrrpPidFile, "utf8").trim());
  p.kill("SIGSTOP");
  if (Number.isInteger(child) && child > 0) process.kill(child, "SIGKILL");
  p.kill("SIGKILL");
  await p.exited;
}

export const SPOOF_SCRIPT = fileURLToPath(new URL("./spoof.mjs", import.meta.url));

export interface SpoofOptions {
  family?: 4 | 6;
  version?: 2 | 3;
  vrid: number;
  priority: number;
  addresses: string[];
  /** ms on the wire (default 100) */
  advertInterval?: number;
  /** IPv4 TTL / IPv6 hop limit (default 255) */
  ttl?: number;
  /** IPv4 source to forge (default the node's own) */
  src?: string;
  count: number;
  /** adverts per second */
  rate: number;
  /** stop after this long whatever was sent (default 10 s) */
  maxMs?: number;
}

/** Starts a hostile VRRP sender (test/vrrp/spoof.mjs) in `node`; it prints {"event":"done"} when finished. */
export function startSpoofer(lab: Lab, node: string, o: SpoofOptions): LabProcess {
  const p = lab.spawnNode(node, SPOOF_SCRIPT, [JSON.stringify(o)]);
  started.push(p);
  return p;
}

/** Runs a spoofer to completion; resolves with its "done" line. */
export async function spoof(lab: Lab, node: string, o: SpoofOptions): Promise<NodeEvent> {
  const p = startSpoofer(lab, node, o);
  const done = await waitEvent(p, "done", 0, (o.maxMs ?? 10_000) + 10_000);
  await p.exited;
  return done;
}

/** Partitions `node` from VRRP (nftables table vrrpcut dropping protocol 112 in and out), or heals it. */
export async function cutVrrp(lab: Lab, node: string, cut: boolean): Promise<void> {
  if (!cut) {
    await lab.exec(node, ["nft", "delete", "table", "inet", "vrrpcut"]);
    return;
  }
  await lab.exec(node, ["nft", "add", "table", "inet", "vrrpcut"]);
  for (const hook of ["input", "output"]) {
    await lab.exec(node, [
      "nft",
      "add",
      "chain",
      "inet",
      "vrrpcut",
      hook,
      `{ type filter hook ${hook} priority 0 ; }`,
    ]);
    await lab.exec(node, ["nft", "add", "rule", "inet", "vrrpcut", hook, "ip", "protocol", "vrrp", "drop"]);
  }
}

/** IPv4 VRRP adverts in a capture of Ethernet frames: when (ms, wall clock), from which source, which priority. */
export function advertsIn(file: string): { t: number; src: string; priority: number }[] {
  return readPcap(file).records.flatMap((r) => {
    const d = r.data;
    if (d.length < 38 || d[12] !== 0x08 || d[13] !== 0x00 || d[23] !== 112) return [];
    const vrrp = 14 + (d[14]! & 15) * 4;
    if (d.length < vrrp + 3) return [];
    return [{ t: r.timeUs / 1000, src: `${d[26]}.${d[27]}.${d[28]}.${d[29]}`, priority: d[vrrp + 2]! }];
  });
}

/**
 * How `to` took over from `from` after wall-clock time `after`, on the wire: the priority of the last advert
 * `from` sent before `to`'s first, and the gap between the two. A resignation (priority 0) is followed after
 * Skew_Time, a master gone silent after Master_Down_Interval. Timed from the capture, not from the processes'
 * clocks, which a loaded host stretches.
 */
export function takeoverOnWire(file: string, from: string, to: string, after: number) {
  const all = advertsIn(file);
  const first = all.find((x) => x.src === to && x.priority > 0 && x.t >= after);
  if (!first) throw new Error(`no advert from ${to} after ${after} in ${file}`);
  const last = all.filter((x) => x.src === from && x.t < first.t).at(-1);
  if (!last) throw new Error(`no advert from ${from} before ${to}'s first in ${file}`);
  return { priority: last.priority, gap: first.t - last.t };
}
