// The bench's process shell: spawns children (optionally pinned with taskset and with a raised open-file
// limit), waits for them to accept connections, and kills every one it started by PID — also on error/exit.
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { sampleTree } from "./procstat";

const started = new Set<ChildProcess>();

export interface Spawned {
  proc: ChildProcess;
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** CPU list for taskset (e.g. "0"); the command execs in place, so the pid is the command's own */
  cpus?: string;
  /** open-file limit for the child (raised as root; 10k idle connections need ~2 fds each on L4) */
  nofile?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onStdout?: (chunk: string) => void;
}

const shq = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

export function start(cmd: string, args: readonly string[], o: SpawnOptions = {}): Spawned {
  const exec = [...(o.cpus !== undefined ? ["taskset", "-c", o.cpus] : []), cmd, ...args].map(shq).join(" ");
  const script = `${o.nofile ? `ulimit -n ${o.nofile} 2>/dev/null || ulimit -n $(ulimit -Hn); ` : ""}exec ${exec}`;
  const proc = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "pipe"], cwd: o.cwd, env: o.env });
  if (proc.pid === undefined) throw new Error(`bench: could not spawn ${cmd}`);
  started.add(proc);
  let log = "";
  proc.stdout?.on("data", (d) => {
    log += d;
    o.onStdout?.(String(d));
  });
  proc.stderr?.on("data", (d) => {
    log += d;
  });
  proc.once("exit", () => started.delete(proc));
  const pid = proc.pid;
  return {
    proc,
    pid,
    log: () => log,
    stop: () => stopProc(proc),
  };
}

async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  const t = setTimeout(() => proc.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(t);
}

/**
 * SIGKILLs every child still running and its descendants (an nginx master's worker would outlive a killed
 * master). Synchronous: usable from process 'exit'.
 */
export function killAll(): void {
  for (const p of started) {
    if (p.exitCode !== null || p.signalCode !== null || p.pid === undefined) continue;
    for (const pid of sampleTree(p.pid).pids.reverse()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

let hooked = false;
/** Installs exit/signal hooks once so an error or Ctrl-C never leaves a peer running. */
export function killAllOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
}

/** Resolves once host:port accepts a TCP connection; rejects after `ms` or when the process exits. */
export async function waitListening(host: string, port: number, p: Spawned, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  for (;;) {
    if (p.proc.exitCode !== null || p.proc.signalCode !== null)
      throw new Error(`bench: pid ${p.pid} exited before listening on ${host}:${port}:\n${p.log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, host);
      c.once("connect", () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > end)
      throw new Error(`bench: nothing listening on ${host}:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a command to completion with a hard time limit, returning its stdout. */
export function run(cmd: string, args: readonly string[], o: SpawnOptions & { timeoutMs: number }) {
  return new Promise<string>((resolve, reject) => {
    const p = start(cmd, args, o);
    const t = setTimeout(() => p.proc.kill("SIGKILL"), o.timeoutMs);
    p.proc.once("exit", (code) => {
      clearTimeout(t);
      if (code === 0) resolve(p.log());
      else reject(new Error(`bench: ${cmd} ${args.join(" ")} exited ${code}:\n${p.log()}`));
    });
  });
}
