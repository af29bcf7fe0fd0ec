// Markdown for the corpus results: per-proxy counts, every UNSAFE vector with what happened, and the full
// vector-by-vector matrix. Pure.

import type { Verdict } from "./classify";
import type { Result } from "./runner";

const LABELS: Record<string, string> = {
  "lbkit-l7": "lbkit L7",
  "haproxy-http": "haproxy 2.6",
  nginx: "nginx 1.22",
  "http-proxy": "node-http-proxy",
  fastify: "@fastify/http-proxy",
};
const SHORT: Record<Verdict, string> = { rejected: "rej", "forwarded-safely": "fwd", UNSAFE: "**UNSAFE**" };

export const label = (peer: string) => LABELS[peer] ?? peer;

export function count(results: readonly Result[], v: Verdict): number {
  return results.filter((r) => r.verdict === v).length;
}

export function renderCorpus(byPeer: ReadonlyMap<string, readonly Result[] | string>): string {
  const peers = [...byPeer.keys()];
  const ran = peers.filter((p) => typeof byPeer.get(p) !== "string");
  const out: string[] = [
    "| proxy | vectors | rejected | forwarded safely | UNSAFE | of which desync |",
    "|---|---|---|---|---|---|",
  ];
  for (const p of peers) {
    const r = byPeer.get(p)!;
    if (typeof r === "string") out.push(`| ${label(p)} | ${r} | | | | |`);
    else
      out.push(
        `| ${label(p)} | ${r.length} | ${count(r, "rejected")} | ${count(r, "forwarded-safely")} | ${count(r, "UNSAFE")} | ${r.filter((x) => x.desync).length} |`,
      );
  }
  out.push("", "UNSAFE vectors:", "");
  for (const p of ran) {
    const bad = (byPeer.get(p) as Result[]).filter((r) => r.verdict === "UNSAFE");
    out.push(`- **${label(p)}**: ${bad.length === 0 ? "none" : ""}`);
    for (const b of bad)
      out.push(
        `  - \`${b.id}\` (${b.title})${b.desync ? " — **desync**" : " — ambiguous message passed on"}: ${b.detail}`,
      );
  }
  const first = byPeer.get(ran[0] ?? "") as Result[] | undefined;
  if (first) {
    out.push(
      "",
      "<details><summary>Every vector (rej = rejected, fwd = forwarded safely)</summary>",
      "",
      `| vector | category | ${ran.map(label).join(" | ")} |`,
      `|---|---|${ran.map(() => "---|").join("")}`,
    );
    for (const [i, r] of first.entries())
      out.push(
        `| \`${r.id}\` | ${r.category} | ${ran.map((p) => SHORT[(byPeer.get(p) as Result[])[i]!.verdict]).join(" | ")} |`,
      );
    out.push("", "</details>");
  }
  return out.join("\n");
}
