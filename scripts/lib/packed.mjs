// The packages as users get them: every packages/<name> with a src/index.ts (packages added later are picked up
// automatically), packed with `pnpm pack` (which rewrites `workspace:^` to real versions, as `pnpm publish`
// does) and installed with npm into a fresh project outside the workspace. Shared by check-consumer.mjs and
// check-readme-blocks.mjs.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** The publishable packages: { name: "@lbkit/x", short: "x", dir, pkg } for packages/*\/src/index.ts. */
export function publicPackages() {
  return readdirSync(join(ROOT, "packages"))
    .sort()
    .map((short) => ({ short, dir: join(ROOT, "packages", short) }))
    .filter(({ dir }) => existsSync(join(dir, "src", "index.ts")) && existsSync(join(dir, "package.json")))
    .map((p) => {
      const pkg = JSON.parse(readFileSync(join(p.dir, "package.json"), "utf8"));
      return { ...p, name: pkg.name, pkg };
    })
    .filter((p) => !p.pkg.private);
}

/** Runs a command; on failure throws an Error naming the command, with its output. */
export function sh(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
  } catch (err) {
    const out = `${err.stdout ?? ""}${err.stderr ?? ""}`.trim();
    throw new Error(
      `\`${cmd} ${args.join(" ")}\` failed${opts.cwd ? ` in ${opts.cwd}` : ""}:\n${out || err.message}`,
    );
  }
}

/**
 * Packs every public package and installs the tarballs (plus `extra` npm specs) into a new temp project.
 * Returns { dir, packages, cleanup }. The project has no @types/node of its own: what a consumer gets is exactly
 * what our packages pull in.
 */
export function consumerProject({ prefix = "lbkit-consumer", extra = [] } = {}) {
  const packages = publicPackages();
  for (const p of packages) {
    for (const f of ["dist/index.js", "dist/index.cjs", "dist/index.d.ts"])
      if (!existsSync(join(p.dir, f)))
        throw new Error(
          `${p.name}: ${f} is missing — run \`pnpm build\` (or \`bash scripts/setup.sh\`) first`,
        );
  }
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const tarballs = join(dir, "tarballs");
  mkdirSync(tarballs);
  // one pnpm run packs them all (about 0.5 s; one `pnpm pack` per package costs ~2 s each)
  sh(
    "pnpm",
    [...packages.flatMap((p) => ["--filter", p.name]), "-r", "pack", "--pack-destination", tarballs],
    {
      cwd: ROOT,
    },
  );
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: "lbkit-consumer", private: true, version: "0.0.0" }, null, 2)}\n`,
  );
  const tgz = readdirSync(tarballs).map((f) => join(tarballs, f));
  sh(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefer-offline", ...tgz, ...extra],
    { cwd: dir, env: cleanEnv() },
  );
  return { dir, packages, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** process.env without the npm_* variables an outer `npm test` / pnpm run sets (they would steer the inner npm). */
export function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

/** The TypeScript version the workspace uses, so the consumer project type-checks with the same compiler. */
export function workspaceTypescript() {
  return JSON.parse(readFileSync(join(ROOT, "node_modules", "typescript", "package.json"), "utf8")).version;
}
