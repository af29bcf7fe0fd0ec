/**
 * Exec check, keepalived MISC_CHECK / vrrp_script: run a command, exit 0 = up. The command runs in its own
 * process group (spawned detached); at the timeout the whole group is killed with SIGKILL, and any process
 * left in the group after the command exits is killed too, so nothing outlives the check. With `dynamic`
 * (keepalived `misc_dynamic`): exit 1 = down, 2..255 = up with weight exit-2.
 */
import { spawn } from "node:child_process";
import { HealthCheckConfigError } from "../errors.js";
import { type Checker, down, excerpt, up } from "../result.js";
import { attempt } from "./attempt.js";

export interface ExecCheckOptions {
  command: string;
  args?: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** keepalived `misc_dynamic`: exit 2..255 sets the weight to exit-2. */
  dynamic?: boolean;
}

export function execCheck(opts: ExecCheckOptions): Checker {
  if (typeof opts.command !== "string" || opts.command.length === 0) {
    throw new HealthCheckConfigError("command", opts.command, "must be the path or name of a program to run");
  }
  const args = opts.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new HealthCheckConfigError("args", args, "must be an array of strings");
  }
  const name = [opts.command, ...args].join(" ");

  return (ctx) =>
    attempt(ctx, (finish) => {
      if (ctx.signal.aborted) {
        finish(down("PROCTOUT", `${name}: not started, already timed out`));
        return { aborted: () => undefined };
      }
      let output = "";
      let timedOut = false;
      const child = spawn(opts.command, args, {
        detached: true, // its own process group, so the group can be killed as a whole
        stdio: ["ignore", "pipe", "pipe"],
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
        ...(opts.env !== undefined ? { env: opts.env } : {}),
        ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
        ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
      });
      const pid = child.pid;
      const killGroup = () => {
        if (pid === undefined) return;
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // ESRCH: the group is already gone
        }
      };
      const collect = (chunk: Buffer) => {
        if (output.length < 1024) output += chunk.toString("utf8");
      };
      child.stdout?.on("data", collect);
      child.stderr?.on("data", collect);
      child.on("error", (err: NodeJS.ErrnoException) => {
        finish(down("PROCERR", `${name}: ${err.code ?? err.message}`));
      });
      child.on("exit", (code, sig) => {
        // The command is gone; whatever it left in its group (background jobs) goes with it.
        killGroup();
        child.stdout?.destroy();
        child.stderr?.destroy();
        const out = excerpt(output.trim());
        if (timedOut) return finish(down("PROCTOUT", `${name}: timed out, process group killed`, out));
        if (code === null) return finish(down("PROCERR", `${name}: killed by ${sig}`, out));
        if (code === 0) return finish(up("PROCOK", `${name}: exit 0`, out));
        if (opts.dynamic && code >= 2) {
          return finish({
            ...up("PROCOK", `${name}: exit ${code}, weight ${code - 2}`, out),
            weight: code - 2,
          });
        }
        finish(down("PROCERR", `${name}: exit ${code}`, out));
      });
      return {
        // the command is killed with its group; the attempt settles when it has exited
        aborted: () => {
          timedOut = true;
          killGroup();
          return undefined;
        },
      };
    });
}
