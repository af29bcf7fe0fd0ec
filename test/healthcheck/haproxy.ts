// A real HAProxy for the healthcheck interop suites: found on the machine, run in the foreground with a
// stats socket on loopback-only configurations, queried with `show stat`, stopped by its own pid.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";

export function findHaproxy(): string | undefined {
  for (const p of ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]) if (existsSync(p)) return p;
  try {
    return execFileSync("sh", ["-c", "command -v haproxy"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a suite runs: outside CI a missing haproxy skips it with the reason printed; under CI=true the
 * suite runs and fails in its beforeAll (scripts/system-deps.sh installs haproxy).
 */
export function haproxyPrerequisite(suite: string): { haproxy: string | undefined; skip: boolean } {
  const haproxy = findHaproxy();
  const skip = !haproxy && process.env.CI !== "true";
  if (skip) console.log(`${suite}: skipped — haproxy not installed (scripts/system-deps.sh installs it)`);
  return { haproxy, skip };
}

export interface RunningHaproxy {
  proc: ChildProcess;
  sock: string;
  /** stdout + stderr so far */
  log(): string;
  /** `show stat` rows as objects keyed by the CSV header. */
  stat(): Promise<Record<string, string>[]>;
  stop(): Promise<void>;
}

/** Writes `<dir>/<name>.cfg` with a stats socket in `global`, starts haproxy -db, waits for the socket. */
export async function startHaproxy(
  haproxy: string | undefined,
  dir: string,
  name: string,
  config: string[],
  onLog?: (chunk: string) => void,
): Promise<RunningHaproxy> {
  if (!haproxy) throw new Error("haproxy is not installed; under CI=true run scripts/system-deps.sh as root");
  const sock = join(dir, `${name}.sock`);
  const file = join(dir, `${name}.cfg`);
  writeFileSync(file, `global\n  stats socket ${sock} mode 600 level admin\n${config.join("\n")}\n`);
  const proc = spawn(haproxy, ["-f", file, "-db"], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const collect = (d: Buffer) => {
    log += d;
    onLog?.(String(d));
  };
  proc.stdout?.on("data", collect);
  proc.stderr?.on("data", collect);
  const end = performance.now() + 5000;
  while (!existsSync(sock)) {
    if (proc.exitCode !== null || performance.now() > end) throw new Error(`haproxy did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    proc,
    sock,
    log: () => log,
    stat: () => statRows(sock),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

async function statRows(sock: string): Promise<Record<string, string>[]> {
  const csv = await new Promise<string>((resolve, reject) => {
    let data = "";
    const c = net.connect(sock, () => c.write("show stat\n"));
    c.on("data", (d) => {
      data += d;
    });
    c.on("end", () => resolve(data));
    c.on("error", reject);
  });
  const lines = csv.trim().split("\n");
  const head = (lines[0] ?? "").replace(/^# /, "").split(",");
  return lines.slice(1).map((line) => {
    const f = line.split(",");
    return Object.fromEntries(head.map((h, i) => [h, f[i] ?? ""]));
  });
}
