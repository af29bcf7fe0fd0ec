/** The shell to the kernel: one `nft -j -f -` process per transaction (the JSON API, as knftables uses it). */
import { spawn } from "node:child_process";
import { KernelLbError } from "./errors.js";
import type { NftCommand } from "./ruleset.js";

/** Applies one transaction atomically: all of it, or nothing (nft's commit semantics). */
export interface Nft {
  apply(commands: readonly NftCommand[]): Promise<void>;
}

export interface NftRunnerOptions {
  /**
   * The command line before `-j -f -`; default `["nft"]`. Tests program a network namespace with
   * `["ip", "netns", "exec", ns, "nft"]`.
   */
  command?: readonly string[];
}

/** Runs the `nft` binary (nftables ≥ 0.9.4; CAP_NET_ADMIN in the network namespace it programs). */
export class NftRunner implements Nft {
  private readonly command: readonly string[];

  constructor(options: NftRunnerOptions = {}) {
    this.command = options.command ?? ["nft"];
  }

  apply(commands: readonly NftCommand[]): Promise<void> {
    if (commands.length === 0) return Promise.resolve();
    const body = JSON.stringify({ nftables: commands });
    const [bin, ...args] = this.command;
    return new Promise((resolve, reject) => {
      const child = spawn(bin!, [...args, "-j", "-f", "-"], { stdio: ["pipe", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (d: string) => {
        if (stderr.length < 8192) stderr += d;
      });
      child.on("error", (err: NodeJS.ErrnoException) => {
        reject(
          err.code === "ENOENT"
            ? new KernelLbError(
                "ERR_NFT_MISSING",
                `kernel-lb: ${JSON.stringify(bin)} not found — install nftables (Debian: apt-get install nftables)`,
                { cause: err },
              )
            : new KernelLbError("ERR_NFT", `kernel-lb: could not run ${bin}: ${err.message}`, { cause: err }),
        );
      });
      child.on("close", (code) => {
        if (code === 0) resolve();
        else
          reject(
            new KernelLbError(
              "ERR_NFT",
              `kernel-lb: nft refused the transaction (exit ${code}): ${stderr.trim().split("\n").slice(0, 6).join(" | ")}`,
              { cause: stderr },
            ),
          );
      });
      child.stdin.on("error", () => {}); // a failed spawn reports through 'error'/'close'
      child.stdin.end(body);
    });
  }
}
