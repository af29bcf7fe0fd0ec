// The API reference: TypeDoc over every package with a src/index.ts (packages added later are picked up), from
// the doc comments, into docs/api/ (git-ignored). Warnings are errors and links are validated (typedoc.json), so
// CI fails on a broken {@link}, or on a public signature that uses a type the package does not export.
// `pnpm docs`; `--check` validates without writing the site (what CI runs).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { publicPackages, ROOT } from "./lib/packed.mjs";

const check = process.argv.includes("--check");

// every subpath of a package's exports map (e.g. @lbkit/core/testing) needs its own entry point: the default is
// src/index.ts only, a package with more lists them in packages/<name>/typedoc.json
for (const p of publicPackages()) {
  const subpaths = Object.keys(p.pkg.exports ?? { ".": null }).filter((k) => !k.endsWith(".json"));
  const own = join(p.dir, "typedoc.json");
  const entries = existsSync(own)
    ? (JSON.parse(readFileSync(own, "utf8")).entryPoints ?? ["src/index.ts"])
    : ["src/index.ts"];
  if (entries.length < subpaths.length) {
    console.error(
      `docs: ${p.name} exports ${subpaths.join(", ")} but TypeDoc documents ${entries.join(", ")}: list one entry point per subpath in packages/${p.short}/typedoc.json ("entryPoints": ["src/index.ts", …])`,
    );
    process.exit(1);
  }
}
const entryPoints = publicPackages().flatMap((p) => ["--entryPoints", p.dir.slice(ROOT.length + 1)]);
try {
  execFileSync(
    process.execPath,
    [
      join(ROOT, "node_modules", "typedoc", "bin", "typedoc"),
      ...entryPoints,
      ...(check ? ["--emit", "none"] : []),
    ],
    { cwd: ROOT, stdio: "inherit" },
  );
} catch {
  console.error(
    "docs: TypeDoc reported problems (above); warnings count as errors. A broken {@link X}: link an exported\n" +
      "name. A type used in a public signature but not exported from src/index.ts: export it, or, when it is\n" +
      'deliberately private, list it under "intentionallyNotExported" in packages/<name>/typedoc.json.',
  );
  process.exit(1);
}
if (!check) console.log(`docs: ${join(ROOT, "docs", "api", "index.html")}`);
