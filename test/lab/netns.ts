// A network lab for system suites: network namespaces joined by a Linux bridge that lives in a namespace of its
// own, so nothing touches the root namespace. Names are unique per run (lbk-<pid>-<rand>-<node>) and everything
// is deleted in destroy(), on process exit, on SIGINT/SIGTERM, and (for runs killed with SIGKILL) by the stale
// reaper that createLab() runs first. See test/lab/README.md.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const IP = "ip";

export interface LabNodeSpec {
  /** Short name, [a-z0-9]{1,8}. */
  name: string;
  /** MAC for the node's eth0; random locally administered 02:xx:.. when omitted. */
  mac?: string;
  /** IPv4 with prefix, inside 198.18.0.0/15. Default 198.18.0.<10+i>/24. */
  ipv4?: string;
  /** IPv6 with prefix, inside 2001:db8::/32. Default 2001:db8::<10+i>/64 when the lab has ipv6. */
  ipv6?: string;
}

export interface LabOptions {
  nodes: (string | LabNodeSpec)[];
  /** Give every node an IPv6 address (DAD off, so it is usable at once). */
  ipv6?: boolean;
  /** sysctls set in every node namespace before its interface exists, e.g. {"net.ipv4.conf.all.arp_accept": "1"}. */
  sysctls?: Record<string, string>;
}

export interface LabNode {
  name: string;
  /** Network namespace name (use with `ip netns exec`). */
  ns: string;
  /** The node's interface on the bridge: always "eth0". */
  ifname: string;
  ifindex: number;
  mac: string;
  /** Address without prefix, and the prefix length. */
  ipv4: string;
  ipv4Prefix: number;
  ipv6?: string;
  ipv6Prefix?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface LabProcess {
  pid: number;
  /** stdout + stderr so far. */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `pattern` shows up in the output (rejects after timeoutMs or on exit). */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  /** Writes to the process's stdin (spawned with `stdin: true`; otherwise throws). */
  write(text: string): void;
  /**
   * Calls `listener` with each complete line the process writes from now on, as it arrives (`stream` says which
   * of stdout or stderr): for processes that report events, timed when they are read.
   */
  onLine(listener: (line: string, stream: "stdout" | "stderr") => void): void;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** give the process a stdin pipe for `write()` (default: no stdin) */
  stdin?: boolean;
}

export interface Capture {
  file: string;
  /** Stops tcpdump (SIGINT) and resolves with the pcap path once it is flushed. */
  stop(): Promise<string>;
}

/** The namespace holding the bridge "br0"; pass BRIDGE as a target to exec/capture there. */
export const BRIDGE = "bridge";

export interface Lab {
  /** Unique per lab: lbk-<pid>-<rand>. */
  id: string;
  nodes: LabNode[];
  /** Namespace holding the bridge br0. */
  bridgeNs: string;
  /** A scratch directory (captures go here), removed by destroy(). */
  dir: string;
  node(name: string): LabNode;
  /** Runs argv inside the target's namespace (`ip netns exec`); rejects on non-zero exit with stderr. */
  exec(target: string, argv: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Starts a long-running process inside the target's namespace; killed by destroy(). */
  spawn(target: string, argv: string[], opts?: SpawnOptions): LabProcess;
  /**
   * SIGKILLs every process inside the target's namespace (a host crash: daemons' forked children too, which a
   * kill of the spawned PID misses).
   */
  killAll(target: string): void;
  /** Starts `node script ...args` (this Node binary) inside the target's namespace. */
  spawnNode(target: string, script: string, args?: string[], opts?: { env?: NodeJS.ProcessEnv }): LabProcess;
  /** Runs `node script ...args` to completion inside the namespace; rejects on non-zero exit. */
  runNode(
    target: string,
    script: string,
    args?: string[],
    opts?: { timeoutMs?: number },
  ): Promise<ExecResult>;
  /** tcpdump -w inside the target's namespace (interface eth0, or br0 for BRIDGE); resolves once listening. */
  capture(target: string, opts?: { filter?: string; iface?: string; name?: string }): Promise<Capture>;
  /** Kills the lab's processes, deletes its namespaces and scratch directory. Idempotent. */
  destroy(): Promise<void>;
}

const live = new Set<LabState>();
let handlersInstalled = false;

interface LabState {
  /** The lab id: every namespace of the lab is named `<id>-<node>`. */
  id: string;
  namespaces: string[];
  pids: Set<number>;
  dir: string;
  destroyed: boolean;
}

function run(argv: string[], timeoutMs = 20_000): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(
      cmd!,
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`lab: \`${argv.join(" ")}\` failed: ${stderr.trim() || err.message}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

function runSync(argv: string[]): void {
  const [cmd, ...args] = argv;
  try {
    execFileSync(cmd!, args, { stdio: "ignore", timeout: 10_000 });
  } catch {
    // best effort during teardown
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function listNamespaces(): string[] {
  try {
    return readdirSync("/run/netns");
  } catch {
    return [];
  }
}

/** PIDs of processes inside a namespace we created (all of them were started by this lab). */
function namespacePids(ns: string): number[] {
  try {
    const out = execFileSync(IP, ["netns", "pids", ns], { encoding: "utf8", timeout: 5000 });
    return out
      .split("\n")
      .map((s) => Number.parseInt(s, 10))
      .filter((n) => Number.isInteger(n) && n > 0 && n !== process.pid);
  } catch {
    return [];
  }
}

function teardownSync(state: LabState): void {
  if (state.destroyed) return;
  state.destroyed = true;
  live.delete(state);
  const pids = new Set(state.pids);
  for (const ns of state.namespaces) for (const pid of namespacePids(ns)) pids.add(pid);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const ns of state.namespaces) runSync([IP, "netns", "del", ns]);
  // a namespace whose `ip netns add` was still running when a signal arrived is not in state.namespaces yet
  for (const ns of listNamespaces()) if (ns.startsWith(`${state.id}-`)) runSync([IP, "netns", "del", ns]);
  rmSync(state.dir, { recursive: true, force: true });
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const s of [...live]) teardownSync(s);
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const handler = () => {
      for (const s of [...live]) teardownSync(s);
      process.off(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

/**
 * Deletes lbk-<pid>-* namespaces left by runs whose process no longer exists (e.g. killed with SIGKILL).
 * Namespaces of live processes — other suites running right now — are left alone.
 */
export function reapStaleLabs(): string[] {
  const reaped: string[] = [];
  const byLab = new Map<number, string[]>();
  for (const ns of listNamespaces()) {
    const m = /^lbk-(\d+)-[0-9a-f]+-/.exec(ns);
    if (!m) continue;
    const pid = Number(m[1]);
    const list = byLab.get(pid) ?? [];
    list.push(ns);
    byLab.set(pid, list);
  }
  for (const [pid, names] of byLab) {
    if (pidAlive(pid)) continue;
    for (const ns of names) {
      for (const p of namespacePids(ns)) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // gone
        }
      }
      runSync([IP, "netns", "del", ns]);
      reaped.push(ns);
    }
  }
  return reaped;
}

function which(cmd: string): boolean {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
  return dirs.some((d) => d && existsSync(join(d, cmd)));
}

export interface Prerequisites {
  /** True when the suite must skip (only ever outside CI). */
  skip: boolean;
  /** Why it skips; empty when it runs. */
  reason: string;
}

/**
 * Guard for suites that need root and system tools. Outside CI a missing prerequisite returns skip=true and
 * prints the reason; under CI=true it throws, so the suite fails instead of silently skipping.
 *
 *   const lab = requireRoot(["ip", "tcpdump", "tshark"]);
 *   describe.skipIf(lab.skip)("...", () => { ... });
 */
export function requireRoot(tools: string[] = ["ip"]): Prerequisites {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (these suites create network namespaces)");
  for (const t of tools) if (!which(t)) missing.push(`${t} (install with scripts/system-deps.sh)`);
  if (missing.length === 0) return { skip: false, reason: "" };
  const reason = `lab: missing prerequisite: ${missing.join(", ")}`;
  if (process.env.CI === "true" || process.env.CI === "1") throw new Error(`${reason} — required under CI`);
  console.warn(`skipping network-namespace suite: ${reason}`);
  return { skip: true, reason };
}

const NAME_RE = /^[a-z0-9]{1,8}$/;
const words = (s: string) => s.split(" ");

function randomMac(): string {
  const b = randomBytes(6);
  b[0] = 0x02; // locally administered, unicast
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

function splitPrefix(addr: string, what: string): [string, number] {
  const [a, p] = addr.split("/");
  const n = Number(p);
  if (!a || !p || !Number.isInteger(n))
    throw new Error(`lab: ${what} "${addr}" needs a prefix length, e.g. /24`);
  return [a, n];
}

function checkV4(addr: string): void {
  const parts = addr.split(".").map(Number);
  if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new Error(`lab: "${addr}" is not an IPv4 address`);
  }
  if (parts[0] !== 198 || (parts[1] !== 18 && parts[1] !== 19)) {
    throw new Error(`lab: IPv4 ${addr} is outside 198.18.0.0/15 (the only range lab networks may use)`);
  }
}

function checkV6(addr: string): void {
  if (!/^2001:0?db8:/i.test(addr)) {
    throw new Error(`lab: IPv6 ${addr} is outside 2001:db8::/32 (the only range lab networks may use)`);
  }
}

/** Creates the namespaces, the bridge and the veth links. Call destroy() in afterAll. */
export async function createLab(opts: LabOptions): Promise<Lab> {
  installHandlers();
  reapStaleLabs();
  const id = `lbk-${process.pid}-${randomBytes(3).toString("hex")}`;
  const specs: LabNodeSpec[] = opts.nodes.map((n) => (typeof n === "string" ? { name: n } : n));
  const seen = new Set<string>();
  for (const s of specs) {
    if (!NAME_RE.test(s.name) || s.name === "br")
      throw new Error(`lab: node name "${s.name}" must match [a-z0-9]{1,8}, not "br"`);
    if (seen.has(s.name)) throw new Error(`lab: duplicate node name "${s.name}"`);
    seen.add(s.name);
  }
  const state: LabState = {
    id,
    namespaces: [],
    pids: new Set(),
    dir: mkdtempSync(join(tmpdir(), `${id}-`)),
    destroyed: false,
  };
  live.add(state);
  const bridgeNs = `${id}-br`;
  const nodes: LabNode[] = [];
  const nsOf = (target: string): string => {
    if (target === BRIDGE) return bridgeNs;
    const n = nodes.find((x) => x.name === target);
    if (!n) throw new Error(`lab: no node "${target}" (nodes: ${nodes.map((x) => x.name).join(", ")})`);
    return n.ns;
  };
  const inNs = (ns: string, argv: string[]) => [IP, "netns", "exec", ns, ...argv];
  // While the lab is being built, a signal handler (or destroy() via the exit handler) may tear it down between
  // two commands: stop there instead of creating namespaces nobody will delete.
  const setup = async (argv: string[]): Promise<ExecResult> => {
    if (state.destroyed) throw new Error(`lab: ${id} was torn down while it was being created`);
    const r = await run(argv);
    if (state.destroyed) {
      state.destroyed = false;
      teardownSync(state);
      throw new Error(`lab: ${id} was torn down while it was being created`);
    }
    return r;
  };
  const sysctl = (ns: string, key: string, value: string) =>
    setup(inNs(ns, ["sysctl", "-qw", `${key}=${value}`]));

  try {
    await setup([IP, "netns", "add", bridgeNs]);
    state.namespaces.push(bridgeNs);
    // keep the bridge itself silent on IPv6 (no RS/MLD from br0 in captures)
    await sysctl(bridgeNs, "net.ipv6.conf.all.disable_ipv6", "1");
    await sysctl(bridgeNs, "net.ipv6.conf.default.disable_ipv6", "1");
    await setup([
      IP,
      "-n",
      bridgeNs,
      ...words("link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0"),
    ]);
    await setup([IP, "-n", bridgeNs, "link", "set", "br0", "up"]);

    for (const [i, spec] of specs.entries()) {
      const ns = `${id}-${spec.name}`;
      await setup([IP, "netns", "add", ns]);
      state.namespaces.push(ns);
      await setup([IP, "-n", ns, "link", "set", "lo", "up"]);
      if (opts.ipv6) {
        for (const scope of ["all", "default"]) {
          await sysctl(ns, `net.ipv6.conf.${scope}.accept_dad`, "0");
          await sysctl(ns, `net.ipv6.conf.${scope}.dad_transmits`, "0");
        }
      } else {
        await sysctl(ns, "net.ipv6.conf.default.disable_ipv6", "1");
        await sysctl(ns, "net.ipv6.conf.all.disable_ipv6", "1");
      }
      for (const [k, v] of Object.entries(opts.sysctls ?? {})) await sysctl(ns, k, v);
      const port = `p${i}`;
      const mac = spec.mac ?? randomMac();
      await setup([IP, "-n", bridgeNs, ...words(`link add ${port} type veth peer name eth0 netns ${ns}`)]);
      await setup([IP, "-n", bridgeNs, "link", "set", port, "master", "br0", "up"]);
      await setup([IP, "-n", ns, "link", "set", "eth0", "address", mac]);
      const [ipv4, ipv4Prefix] = splitPrefix(spec.ipv4 ?? `198.18.0.${10 + i}/24`, "ipv4");
      checkV4(ipv4);
      await setup([IP, "-n", ns, "addr", "add", `${ipv4}/${ipv4Prefix}`, "dev", "eth0"]);
      let ipv6: string | undefined;
      let ipv6Prefix: number | undefined;
      if (opts.ipv6 || spec.ipv6) {
        [ipv6, ipv6Prefix] = splitPrefix(spec.ipv6 ?? `2001:db8::${10 + i}/64`, "ipv6");
        checkV6(ipv6);
        await setup([IP, "-n", ns, "addr", "add", `${ipv6}/${ipv6Prefix}`, "dev", "eth0", "nodad"]);
      }
      await setup([IP, "-n", ns, "link", "set", "eth0", "up"]);
      const link = JSON.parse((await setup([IP, "-n", ns, "-j", "link", "show", "eth0"])).stdout) as {
        ifindex: number;
      }[];
      nodes.push({
        name: spec.name,
        ns,
        ifname: "eth0",
        ifindex: link[0]!.ifindex,
        mac,
        ipv4,
        ipv4Prefix,
        ...(ipv6 ? { ipv6, ipv6Prefix } : {}),
      });
    }
  } catch (err) {
    teardownSync(state);
    throw err;
  }

  const spawnIn = (target: string, argv: string[], o?: SpawnOptions) => {
    const ns = nsOf(target);
    // `ip netns exec` execs the command after setns(), so child.pid is the command itself
    const child: ChildProcess = spawn(IP, ["netns", "exec", ns, ...argv], {
      env: o?.env ?? process.env,
      cwd: o?.cwd,
      stdio: [o?.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    child.stdin?.on("error", () => {}); // the process may exit before reading
    const pid = child.pid;
    if (pid === undefined) throw new Error(`lab: could not start \`${argv.join(" ")}\` in ${ns}`);
    state.pids.add(pid);
    let out = "";
    const listeners = new Set<() => void>();
    const lineListeners: ((line: string, stream: "stdout" | "stderr") => void)[] = [];
    const partial = { stdout: "", stderr: "" };
    const onData = (stream: "stdout" | "stderr") => (d: Buffer) => {
      const text = d.toString("utf8");
      out += text;
      const lines = (partial[stream] + text).split("\n");
      partial[stream] = lines.pop() ?? "";
      for (const line of lines) for (const l of lineListeners) l(line, stream);
      for (const l of listeners) l();
    };
    child.stdout?.on("data", onData("stdout"));
    child.stderr?.on("data", onData("stderr"));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on("close", (code, signal) => {
        state.pids.delete(pid);
        for (const l of listeners) l();
        resolve({ code, signal });
      });
    });
    let done = false;
    void exited.then(() => {
      done = true;
    });
    const proc: LabProcess = {
      pid,
      output: () => out,
      exited,
      kill: (signal = "SIGTERM") => {
        if (!done) child.kill(signal);
      },
      write: (text) => {
        if (!child.stdin) throw new Error("lab: spawn(…, { stdin: true }) to write to a process");
        child.stdin.write(text);
      },
      onLine: (listener) => {
        lineListeners.push(listener);
      },
      waitFor: (pattern, timeoutMs = 10_000) =>
        new Promise<void>((resolve, reject) => {
          const test = () => (typeof pattern === "string" ? out.includes(pattern) : pattern.test(out));
          if (test()) return resolve();
          const timer = setTimeout(() => {
            listeners.delete(check);
            reject(
              new Error(
                `lab: "${String(pattern)}" not seen within ${timeoutMs} ms in ${ns}; output:\n${out}`,
              ),
            );
          }, timeoutMs);
          const check = () => {
            if (test()) {
              clearTimeout(timer);
              listeners.delete(check);
              resolve();
            } else if (done) {
              clearTimeout(timer);
              listeners.delete(check);
              reject(new Error(`lab: process exited before "${String(pattern)}" in ${ns}; output:\n${out}`));
            }
          };
          listeners.add(check);
        }),
    };
    return proc;
  };

  const lab: Lab = {
    id,
    nodes,
    bridgeNs,
    dir: state.dir,
    node(name) {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`lab: no node "${name}" (nodes: ${nodes.map((x) => x.name).join(", ")})`);
      return n;
    },
    exec: (target, argv, o) => run(inNs(nsOf(target), argv), o?.timeoutMs),
    spawn: spawnIn,
    killAll(target) {
      for (const pid of namespacePids(nsOf(target))) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    },
    spawnNode: (target, script, args = [], o) => spawnIn(target, [process.execPath, script, ...args], o),
    runNode: (target, script, args = [], o) =>
      run(inNs(nsOf(target), [process.execPath, script, ...args]), o?.timeoutMs ?? 30_000),
    async capture(target, o) {
      const iface = o?.iface ?? (target === BRIDGE ? "br0" : "eth0");
      const file = join(state.dir, `${o?.name ?? `${target}-${randomBytes(2).toString("hex")}`}.pcap`);
      // --immediate-mode: without it, frames still in the TPACKET_V3 ring when SIGINT arrives are lost
      const argv = ["tcpdump", "-i", iface, "--immediate-mode", "-U", "-n", "-Z", "root", "-w", file];
      if (o?.filter) argv.push(o.filter);
      const proc = spawnIn(target, argv);
      await proc.waitFor(/listening on/, 10_000);
      return {
        file,
        async stop() {
          await new Promise((r) => setTimeout(r, 100)); // let the last frames reach the ring
          proc.kill("SIGINT");
          const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
          await proc.exited;
          clearTimeout(t);
          return file;
        },
      };
    },
    async destroy() {
      teardownSync(state);
    },
  };
  return lab;
}
