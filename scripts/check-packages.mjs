// publint and @arethetypeswrong/cli over every package that has code: it must install and
// type-check as users get it from npm (ESM, CJS, and each TypeScript resolution mode).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
let failures = 0;
for (const name of readdirSync(join(root, "packages")).sort()) {
  const dir = join(root, "packages", name);
  if (!existsSync(join(dir, "src", "index.ts"))) continue; // not built yet: package.json + README only
  for (const [tool, args] of [
    ["publint", ["--strict", dir]],
    ["attw", ["--pack", dir, "--format", "table-flipped"]],
  ]) {
    try {
      execFileSync(bin(tool), args, { stdio: "pipe" });
      console.log(`ok   ${tool} @lbkit/${name}`);
    } catch (err) {
      failures++;
      console.log(`FAIL ${tool} @lbkit/${name}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
    }
  }
}
process.exit(failures ? 1 : 0);
