// The smuggling / strictness corpus against real proxies on loopback: each vector sent raw to the proxy in
// front of a recording origin, the transcript classified (see classify.ts). lbkit's L7 must forward none
// unsafely beyond the open gaps listed in expected.ts (target: none, and no desync ever); haproxy 2.6 and nginx
// 1.22 must show exactly the UNSAFE vectors recorded there — the
// runner's own classification of their real behaviour, which also shows it detects what it should. Every
// control vector must be forwarded safely by every proxy (the runner does not mistake a working proxy).
// The proxies run concurrently, each with its own origin (a corpus pass takes a minute or two per proxy).
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LBKIT_EXAMPLE } from "../../bench/proxy/peers";
import { findHaproxy } from "../healthcheck/haproxy";
import { EXPECTED_UNSAFE } from "./expected";
import { type CorpusPeer, runPeerCorpus } from "./peers";
import { renderCorpus } from "./render";
import type { Result } from "./runner";

const ci = process.env.CI === "true";
const available: Record<"lbkit-l7" | "haproxy-http" | "nginx", [boolean, string]> = {
  "lbkit-l7": [
    existsSync(LBKIT_EXAMPLE) && existsSync(new URL("../../packages/proxy/dist/index.js", import.meta.url)),
    "examples/proxy needs a built @lbkit/proxy: run pnpm build",
  ],
  "haproxy-http": [
    findHaproxy() !== undefined,
    "haproxy is not installed: scripts/system-deps.sh installs it",
  ],
  nginx: [existsSync("/usr/sbin/nginx"), "nginx is not installed: scripts/system-deps.sh installs it"],
};
const peers = (Object.keys(available) as (keyof typeof available)[]).filter((p) => {
  const [ok, why] = available[p];
  if (!ok && !ci) console.log(`proxy corpus: ${p} skipped — ${why} (under CI=true it fails)`);
  return ok || ci;
});

const results = new Map<CorpusPeer, Result[] | Error>();
beforeAll(async () => {
  await Promise.all(
    peers.map(async (p) => {
      results.set(p, await runPeerCorpus(p).catch((e: Error) => e));
    }),
  );
}, 900_000);
afterAll(() => {
  const ok = new Map([...results].filter((e): e is [CorpusPeer, Result[]] => Array.isArray(e[1])));
  if (ok.size) console.log(renderCorpus(ok).split("\n<details>")[0]);
});

const get = (p: CorpusPeer): Result[] => {
  const r = results.get(p);
  if (r instanceof Error) throw r;
  if (!r) throw new Error(`proxy corpus: ${p} did not run`);
  return r;
};
const controlsOk = (r: readonly Result[]) =>
  expect(
    r
      .filter((x) => x.category === "control" && x.verdict !== "forwarded-safely")
      .map((x) => `${x.id}: ${x.detail}`),
  ).toEqual([]);
const unsafe = (r: readonly Result[]) =>
  r.filter((x) => x.verdict === "UNSAFE").map((x) => `${x.id}: ${x.detail}`);

describe("proxy smuggling corpus", () => {
  it.runIf(peers.includes("lbkit-l7"))(
    "lbkit L7: no desync, no UNSAFE vector beyond the listed gaps, every control",
    () => {
      const r = get("lbkit-l7");
      controlsOk(r);
      expect(r.filter((x) => x.desync).map((x) => `${x.id}: ${x.detail}`)).toEqual([]);
      expect(
        unsafe(r)
          .map((x) => x.split(":")[0])
          .sort(),
      ).toEqual([...EXPECTED_UNSAFE["lbkit-l7"]].sort());
    },
  );
  for (const peer of ["haproxy-http", "nginx"] as const)
    it.runIf(peers.includes(peer))(`${peer}: the runner classifies its real behaviour as recorded`, () => {
      const r = get(peer);
      controlsOk(r);
      expect(
        unsafe(r)
          .map((x) => x.split(":")[0])
          .sort(),
      ).toEqual([...EXPECTED_UNSAFE[peer]].sort());
    });
});
