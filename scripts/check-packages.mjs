// Release readiness of every package that has code (packages/*/src/index.ts; packages added later are covered
// automatically): publint and @arethetypeswrong/cli (it must install and type-check as users get it from npm:
// ESM, CJS, each TypeScript resolution mode), the metadata a publish needs (MIT LICENSE in the tarball, public
// access for the @lbkit scope), and `pnpm publish -r --dry-run` with no warning but the dry run's "not logged in".
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { publicPackages, ROOT } from "./lib/packed.mjs";

const bin = (name) => join(ROOT, "node_modules", ".bin", name);
let failures = 0;
const fail = (what, detail = "") => {
  failures++;
  console.log(`FAIL ${what}${detail ? `\n${detail}` : ""}`);
};
const packages = publicPackages();
for (const { name, dir, pkg } of packages) {
  for (const [tool, args] of [
    ["publint", ["--strict", dir]],
    ["attw", ["--pack", dir, "--format", "table-flipped"]],
  ]) {
    try {
      execFileSync(bin(tool), args, { stdio: "pipe" });
      console.log(`ok   ${tool} ${name}`);
    } catch (err) {
      fail(`${tool} ${name}`, `${err.stdout ?? ""}${err.stderr ?? ""}`);
    }
  }
  const problems = [];
  if (pkg.license !== "MIT") problems.push(`"license" is ${JSON.stringify(pkg.license)}, expected "MIT"`);
  if (!existsSync(join(dir, "LICENSE")))
    problems.push(`no LICENSE file: cp LICENSE ${dir.slice(ROOT.length + 1)}/`);
  if (!pkg.files?.includes("LICENSE")) problems.push(`"files" does not list "LICENSE"`);
  if (pkg.publishConfig?.access !== "public")
    problems.push(`"publishConfig": { "access": "public" } missing (scoped packages publish as restricted)`);
  // TypeScript consumers need Node's types when our .d.ts use them, or when netlink (which depends on
  // @types/node@12, and npm hoists it) is installed with us: the peer makes npm/pnpm put a current one on top
  const dts = ["index.d.ts", "index.d.cts"].map((f) => join(dir, "dist", f)).filter(existsSync);
  const usesNode = dts.some((f) =>
    /\bBuffer\b|\bNodeJS\.|["']node:|from ["'](?:events|net|http|https|tls|dgram|stream)["']/.test(
      readFileSync(f, "utf8"),
    ),
  );
  const lbkitDeps = Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith("@lbkit/"));
  const pullsNetlink =
    "netlink" in (pkg.dependencies ?? {}) ||
    lbkitDeps.some((d) => packages.find((p) => p.name === d)?.pkg.peerDependencies?.["@types/node"]);
  if ((usesNode || pullsNetlink) && !pkg.peerDependencies?.["@types/node"])
    problems.push(
      `${usesNode ? "its .d.ts use Node's types" : "it installs netlink (which brings @types/node@12)"}: add "peerDependencies": { "@types/node": ">=20" }`,
    );
  if (problems.length) fail(`metadata ${name}`, problems.map((p) => `  ${name}: ${p}`).join("\n"));
  else
    console.log(`ok   metadata ${name} (MIT LICENSE in files, public access, @types/node peer where needed)`);
}

// pnpm publish -r --dry-run: exit 0, every package's tarball holds LICENSE, README.md and its dist entry points
// npm writes its notices to stderr; pnpm collects them into the combined output only with 2>&1
let out = "";
try {
  out = execFileSync("bash", ["-c", "pnpm publish -r --dry-run --no-git-checks 2>&1"], {
    cwd: ROOT,
    encoding: "utf8",
  });
} catch (err) {
  fail("pnpm publish -r --dry-run", `${err.stdout ?? ""}`);
}
const warnings = out
  .split("\n")
  .filter((l) => /\b(warn|WARN|ERR)/.test(l) && !/requires you to be logged in/.test(l));
if (warnings.length) fail("pnpm publish -r --dry-run warnings", warnings.join("\n"));
const tarballs = new Map();
let current;
for (const line of out.split("\n")) {
  const head = /📦\s+(\S+)@\S+/.exec(line);
  if (head) {
    current = head[1];
    tarballs.set(current, []);
  } else if (/Tarball Details/.test(line)) current = undefined;
  else if (current) {
    const file = /^npm notice [\d.]+k?B (\S+)$/.exec(line)?.[1];
    if (file) tarballs.get(current).push(file);
  }
}
for (const { name } of packages) {
  const files = tarballs.get(name);
  const missing = [
    "LICENSE",
    "README.md",
    "package.json",
    "dist/index.js",
    "dist/index.cjs",
    "dist/index.d.ts",
  ].filter((f) => !files?.includes(f));
  if (!files) fail(`pnpm publish -r --dry-run did not publish ${name}`);
  else if (missing.length) fail(`tarball of ${name} lacks ${missing.join(", ")}`, files.join("\n"));
  else console.log(`ok   pnpm publish --dry-run ${name}: ${files.length} files`);
}
process.exit(failures ? 1 : 0);
