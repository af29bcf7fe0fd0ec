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
// every proxy at once, each with its own origin (the transcripts are independent)
const results = new Map<CorpusPeer, Result[] | string>(peers.map((p) => [p, "not run"]));
await Promise.all(
  peers.map(async (p) => {
    if (p === "lbkit-l7" && !existsSync(LBKIT_EXAMPLE)) {
      results.set(p, "not built yet");
      return;
    }
    console.error(`[corpus] ${p}…`);
    results.set(p, await runPeerCorpus(p));
  }),
);
const text = [
  "## Proxies: request-smuggling and strictness corpus",
  "",
  `Regenerate: \`pnpm build && pnpm --filter @lbkit/bench bench:proxy-corpus --write\`; the system suite`,
  "`test/proxy-corpus/corpus.test.ts` asserts the same classification (lbkit, haproxy, nginx). Measured",
  `${new Date().toISOString().slice(0, 10)}, haproxy 2.6.12 (\`mode http\`), nginx 1.22.1, node-http-proxy and @fastify/http-proxy configured as in the proxy bench section.`,
  "",
  "Each vector (test/proxy-corpus/vectors.ts) is sent raw over one connection to the proxy, in front of a recording",
  "origin that keeps the exact bytes each upstream connection delivers, frames them as RFC 9112 says (chunked over",
  "Content-Length) and answers every request with a tagged response; response vectors are what that origin sends",
  "back for `GET /resp/<id>`, followed by a second request on the same client connection. *Rejected*: the proxy",
  "answered with an error (or closed) and forwarded nothing. *Forwarded safely*: the origin saw only clean,",
  "well-framed messages and every one of them was answered to the client in order. *UNSAFE*: either a **desync**",
  "(the origin saw a request the client never got an answer for, kept a prefix of unframed bytes, or the client",
  "received an injected response or someone else's answer) or an ambiguous message passed on (conflicting or",
  "invalid framing, obs-fold, whitespace before a colon, NUL/CR/LF, Transfer-Encoding on HTTP/1.0, a 204 with",
  "Content-Length…) that another implementation could frame differently.",
  "",
  renderCorpus(results),
].join("\n");
console.log(text);
if (write) {
  // @ts-expect-error -- a plain .mjs helper without typings
  const { writeSection } = await import("../../bench/lib/readme-section.mjs");
  (writeSection as (n: string, b: string) => void)("proxy-corpus", text);
}
