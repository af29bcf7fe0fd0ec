// Child processes in a lab run built code (packages/<p>/dist). ensureBuilt() rebuilds a package only when its
// dist is missing or older than its sources, so suites do not wipe a dist another running suite is using.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (!e.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds packages/<name> (`pnpm --filter @lbkit/<name> build`) unless its dist is newer than src/. */
export function ensureBuilt(name: string): { built: boolean; dist: string } {
  const pkg = join(ROOT, "packages", name);
  const dist = join(pkg, "dist");
  const outputs = ["index.js", "index.cjs", "index.d.ts"].map((f) => join(dist, f));
  const srcTime = Math.max(
    newestMtime(join(pkg, "src")),
    ...["package.json", "tsup.config.ts"].map((f) => statSync(join(pkg, f)).mtimeMs),
  );
  const fresh = outputs.every((o) => existsSync(o) && statSync(o).mtimeMs >= srcTime);
  if (!fresh) execFileSync("pnpm", ["--filter", `@lbkit/${name}`, "build"], { cwd: ROOT, stdio: "pipe" });
  return { built: !fresh, dist };
}
