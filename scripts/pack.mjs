// Packs every package (packages/*/src/index.ts) with `pnpm pack` into packs/ (git-ignored) and prints how to
// install the tarballs into another project with npm before the packages are published. Build first.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { publicPackages, ROOT, sh } from "./lib/packed.mjs";

const out = join(ROOT, "packs");
rmSync(out, { recursive: true, force: true });
mkdirSync(out);
const packages = publicPackages();
sh("pnpm", [...packages.flatMap((p) => ["--filter", p.name]), "-r", "pack", "--pack-destination", out], {
  cwd: ROOT,
});
const tgz = readdirSync(out).sort();
console.log(`${tgz.length} tarballs in ${out}:\n${tgz.map((f) => `  ${f}`).join("\n")}`);
console.log(`\nin your project:\n  npm install ${out}/*.tgz`);
