/**
 * The shell to the kernel: nftables' JSON API (as knftables uses it) through the `nft` binary.
 *
 * `NftRunner` keeps one `nft -j -i` process and writes each transaction as one JSON line (nft applies each input
 * line as one batch: all of it or nothing), followed by a `list flowtables` marker line; nft's stderr is merged into
 * stdout, so whatever arrives before the marker's answer is that transaction's error. That costs well under a
 * millisecond per transaction against ~5–25 ms for a process per transaction. If the process dies, the next
 * transaction starts a new one. A transaction made only of `{ text }` commands is sent in nft's text syntax (one
 * line, commands joined by `;`: still one batch) — for what nft's JSON cannot say, such as a `typeof` map.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { KernelLbError } from "./errors.js";
import type { NftCommand } from "./ruleset.js";

/** Applies one transaction atomically: all of it, or nothing (nft's commit semantics). */
export interface Nft {
  apply(commands: readonly NftCommand[]): Promise<void>;
  /** Releases what the runner holds (its nft process); called by the director that created it. */
  stop?(): Promise<void>;
}

export interface NftRunnerOptions {
  /**
   * The command line of nft, before `-j -i`; default `["nft"]`. Tests program a network namespace with
   * `["ip", "netns", "exec", ns, "nft"]`.
   */
  command?: readonly string[];
}

// The marker must be cheap whatever the ruleset holds: `list tables` makes nft fetch its whole cache (1.5–2.5 s
// with 10,000 chains and a 65,536-element map, measured with nft 1.0.6), `list flowtables` only the flowtables.
const MARKER = JSON.stringify({ nftables: [{ list: { flowtables: null } }] });
const ANSWER = '{"nftables": [{"metainfo"';

interface Pending {
  resolve(): void;
  reject(err: Error): void;
  output: string;
}

/** Runs `nft` (nftables ≥ 0.9.4, CAP_NET_ADMIN in the network namespace it programs). */
export class NftRunner implements Nft {
  private readonly command: readonly string[];
  private child: ChildProcess | undefined;
  private readonly queue: Pending[] = [];
  private buffer = "";

  constructor(options: NftRunnerOptions = {}) {
    this.command = options.command ?? ["nft"];
  }

  apply(commands: readonly NftCommand[]): Promise<void> {
    if (commands.length === 0) return Promise.resolve();
    let line: string;
    try {
      line = transactionLine(commands);
    } catch (err) {
      return Promise.reject(err);
    }
    const child = this.child ?? this.spawn();
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject, output: "" });
      child.stdin!.write(`${line}\n${MARKER}\n`);
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    await new Promise<void>((resolve) => {
      child.once("close", () => resolve());
      child.stdin!.end();
    });
  }

  private spawn(): ChildProcess {
    // merge stderr into stdout so an error and the marker's answer arrive in order
    const child = spawn("/bin/sh", ["-c", 'exec "$@" -j -i 2>&1', "sh", ...this.command], {
      stdio: ["pipe", "pipe", "ignore"],
    });
    this.child = child;
    this.buffer = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (d: string) => this.onData(d));
    child.stdin!.on("error", () => {}); // reported through 'close'
    child.on("error", (err) => this.fail(child, err));
    child.on("close", (code) => this.fail(child, new Error(`nft exited (${code})`)));
    return child;
  }

  private onData(data: string): void {
    this.buffer += data;
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const head = this.queue[0];
      if (!head) continue;
      if (!line.startsWith(ANSWER)) {
        if (line.trim() && head.output.length < 8192) head.output += `${line}\n`;
        continue;
      }
      this.queue.shift();
      if (head.output.includes("Error")) head.reject(refused(head.output));
      else head.resolve();
    }
  }

  private fail(child: ChildProcess, err: Error & { code?: string }): void {
    if (this.child === child) this.child = undefined;
    const missing = /not found|No such file/.test(this.queue[0]?.output ?? "") || err.code === "ENOENT";
    for (const p of this.queue.splice(0))
      p.reject(
        missing
          ? new KernelLbError(
              "ERR_NFT_MISSING",
              `kernel-lb: ${JSON.stringify(this.command.join(" "))} could not run — install nftables (Debian: apt-get install nftables): ${p.output.trim()}`,
              { cause: err },
            )
          : new KernelLbError("ERR_NFT", `kernel-lb: nft stopped: ${err.message} ${p.output.trim()}`, {
              cause: err,
            }),
      );
  }
}

function isText(c: NftCommand): c is { text: string } {
  return typeof c.text === "string" && Object.keys(c).length === 1;
}

/** One input line for `nft -j -i`: JSON, or text when every command is `{ text }`. */
export function transactionLine(commands: readonly NftCommand[]): string {
  const text = commands.filter(isText);
  if (text.length === 0) return JSON.stringify({ nftables: commands });
  if (text.length < commands.length)
    throw new KernelLbError(
      "ERR_NFT",
      "kernel-lb: a transaction mixes text and JSON commands; send the text ones as a transaction of their own",
    );
  if (text.some((c) => /[\n;]/.test(c.text.replace(/\{[^}]*\}/g, ""))))
    throw new KernelLbError("ERR_NFT", "kernel-lb: a text command holds a newline or a ';' outside braces");
  return text.map((c) => c.text).join("; ");
}

function refused(output: string): KernelLbError {
  const lines = output.trim().split("\n");
  return new KernelLbError(
    "ERR_NFT",
    `kernel-lb: nft refused the transaction: ${lines.slice(0, 6).join(" | ")}`,
    {
      cause: output,
    },
  );
}
