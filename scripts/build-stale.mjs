// Builds only the workspace packages whose build is missing or older than their sources (every file of the
// package outside dist/, node_modules/ and build/, tests excluded), in one `pnpm --filter … build` run, and
// says what it does. Used by `npm run demo` so a second run starts at once. Exit code: pnpm's.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./lib/packed.mjs";

const SKIP = new Set(["dist", "node_modules", "build", "prebuilds"]);
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (!/\.test\.ts$/.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}
function oldest(dir) {
  let t = Number.POSITIVE_INFINITY;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.min(t, e.isDirectory() ? oldest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const dirs = [
  ...readdirSync(join(ROOT, "packages")).map((d) => join(ROOT, "packages", d)),
  join(ROOT, "test", "lab"),
];
const stale = [];
for (const dir of dirs) {
  const file = join(dir, "package.json");
  if (!existsSync(file)) continue;
  const pkg = JSON.parse(readFileSync(file, "utf8"));
  if (!pkg.scripts?.build) continue;
  const dist = join(dir, "dist");
  const why =
    !existsSync(dist) || readdirSync(dist).length === 0
      ? "not built yet"
      : newest(dir) > oldest(dist)
        ? "sources changed"
        : "";
  if (why) stale.push({ name: pkg.name, why });
}
if (stale.length === 0) {
  console.log("demo: every package is built and up to date");
  process.exit(0);
}
console.log(`demo: building ${stale.map((s) => `${s.name} (${s.why})`).join(", ")}…`);
const t0 = Date.now();
// pnpm builds them in dependency order; each finished package is reported as it is done
const child = spawn("pnpm", [...stale.flatMap((s) => ["--filter", s.name]), "build"], {
  cwd: ROOT,
  stdio: ["ignore", "pipe", "pipe"],
});
let all = "";
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
for (const stream of [child.stdout, child.stderr])
  createInterface({ input: stream }).on("line", (line) => {
    all += `${line}\n`;
    const done = /^(\S+) build: Done$/.exec(line);
    if (done) console.log(`  ${done[1]} built (${since()})`);
  });
const code = await new Promise((resolve) => child.on("close", resolve));
if (code !== 0) {
  process.stderr.write(all);
  console.error("demo: the build failed (above)");
  process.exit(1);
}
console.log(`demo: built in ${since()}`);
