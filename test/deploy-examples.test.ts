// The deployment examples run as a user runs them (bounded), and do what their header says.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";

const run = (example: string, args: string[] = []) =>
  new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [fileURLToPath(new URL(`../examples/${example}/index.mjs`, import.meta.url)), ...args],
      { timeout: 30_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    ),
  );

beforeAll(() => {
  for (const p of ["core", "arp", "balancer", "healthcheck", "vrrp", "proxy"]) ensureBuilt(p);
}, 180_000);

describe("deployment examples", () => {
  it("each has --help", async () => {
    for (const e of ["ha-pair", "active-active", "geo-routing", "custom-balancer"])
      expect(await run(e, ["--help"]), e).toMatch(/^usage: node examples\//);
  }, 30_000);

  it("active-active: each node holds one VIP; lb2 takes both when lb1 fails and gives one back", async () => {
    const out = await run("active-active");
    expect(out).toMatch(/both serving: +198\.18\.0\.201 → lb1, +198\.18\.0\.202 → lb2$/m);
    expect(out).toMatch(/lb1 failed: +198\.18\.0\.201 → lb2, +198\.18\.0\.202 → lb2$/m);
    expect(out).toMatch(/lb1 is back: +198\.18\.0\.201 → lb1, +198\.18\.0\.202 → lb2$/m);
  }, 30_000);

  it("geo-routing: longest prefix wins, anything else goes to the default", async () => {
    const out = await run("geo-routing");
    expect(out).toMatch(/client 127\.0\.1\.7 +→ eu \(X-Forwarded-For 127\.0\.1\.7\)/);
    expect(out).toMatch(/client 127\.0\.2\.7 +→ us \(/);
    expect(out).toMatch(/client 127\.0\.2\.200 +→ us-west \(/);
    expect(out).toMatch(/client 127\.0\.0\.1 +→ default \(/);
  }, 30_000);

  it("custom-balancer: the user's algorithm serves every request over all three servers", async () => {
    const out = await run("custom-balancer");
    const counts = JSON.parse(out.match(/: (\{.*\})$/m)![1]!) as Record<string, number>;
    expect(Object.keys(counts).sort()).toEqual(["a", "b", "c"]);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(60);
  }, 30_000);
});
