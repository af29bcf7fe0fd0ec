// Prints the per-proxy corpus table (and, with --write, the <!-- proxy-corpus --> section of bench/README.md).
// Usage: pnpm bench:proxy-corpus [--write] [peer …]
import { existsSync } from "node:fs";
import { LBKIT_EXAMPLE } from "../../bench/proxy/peers";
import { type CorpusPeer, runPeerCorpus } from "./peers";
import { renderCorpus } from "./render";
import type { Result } from "./runner";

const args = process.argv.slice(2);
const write = args.includes("--write");
const asked = args.filter((a) => !a.startsWith("--")) as CorpusPeer[];
const peers: CorpusPeer[] = asked.length
  ? asked
  : ["lbkit-l7", "haproxy-http", "nginx", "http-proxy", "fastify"];
const results = new Map<CorpusPeer, Result[] | string>();
for (const p of peers) {
  if (p === "lbkit-l7" && !existsSync(LBKIT_EXAMPLE)) {
    results.set(p, "not built yet");
    continue;
  }
  console.error(`[corpus] ${p}…`);
  results.set(p, await runPeerCorpus(p));
}
const text = renderCorpus(results);
console.log(text);
if (write) {
  // @ts-expect-error -- a plain .mjs helper without typings
  const { writeSection } = await import("../../bench/lib/readme-section.mjs");
  (writeSection as (n: string, b: string) => void)("proxy-corpus", text);
}
