/**
 * Every example script answers --help (usage on stdout, exit 0, before it touches the network) and rejects an
 * unknown option with its usage and exit code 2, without a stack trace. Examples added later are covered: every
 * .mjs under examples/ except modules (files that export something, such as the shared examples/cli.mjs).
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const EXAMPLES = join(ROOT, "examples");

function scripts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : scripts(p);
    return e.name.endsWith(".mjs") && !/^export /m.test(readFileSync(p, "utf8")) ? [p] : [];
  });
}

function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(() => {
  for (const p of ["arp", "balancer", "healthcheck", "vrrp"]) ensureBuilt(p);
}, 120_000);

describe("every example answers --help", () => {
  const all = scripts(EXAMPLES);
  it("finds the examples", () => {
    expect(all.length).toBeGreaterThanOrEqual(5);
  });
  for (const script of all) {
    const name = relative(ROOT, script);
    it(`${name} --help prints its usage and exits 0`, async () => {
      const r = await run(script, ["--help"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: node ${name.replace(/[.]/g, "\\.")}`));
      expect(r.stderr).toBe("");
    });
    it(`${name} --no-such-option prints the error and the usage, exit 2, no stack trace`, async () => {
      const r = await run(script, ["--no-such-option"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Unknown option '--no-such-option'/);
      expect(r.stderr).toMatch(/usage: node /);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });
  }
});
