// Drives test/kernel-lb/director.mjs from the kernel-lb system suites: spawns it in a lab node, sends JSON commands
// on its stdin, waits for its JSON events on stdout.
import type { Lab, LabProcess } from "../lab/netns.js";

/** What test/kernel-lb/client.mjs prints: answers per real server, failed flows and their errors. */
export interface ClientResult {
  counts: Record<string, number>;
  failures: number;
  errors: string[];
}

export const kernelLbScript = (name: string) => new URL(`./${name}`, import.meta.url).pathname;

export type DirectorProcess = LabProcess & {
  send(cmd: object): void;
  /** The next event of that name after the last one returned; rejects on an `error` event or after timeoutMs. */
  next(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
};

export function spawnDirector(lab: Lab, node: string, args: string[]): DirectorProcess {
  const p = lab.spawn(node, [process.execPath, kernelLbScript("director.mjs"), ...args], {
    stdin: true,
  }) as DirectorProcess;
  let seen = 0;
  p.next = async (event, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = p
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"));
      while (seen < lines.length) {
        const o = JSON.parse(lines[seen++]!) as Record<string, unknown>;
        if (o.event === event) return o;
        if (o.event === "error") throw new Error(`director error: ${String(o.message)}`);
      }
      if (Date.now() > deadline) throw new Error(`no ${event} event; output:\n${p.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  p.send = (cmd) => p.write(`${JSON.stringify(cmd)}\n`);
  return p;
}
