import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * CommonJS modules loaded with `import()` arrive as `{ default: exports }` under ESM and as the exports themselves
 * under CJS builds; this returns the exports either way (used for `netlink` and `raw-socket`).
 */
export function moduleExports<T>(mod: T | { default: T }): T {
  return (
    typeof mod === "object" && mod !== null && "default" in mod ? (mod as { default: T }).default : mod
  ) as T;
}

/**
 * The directory of the package named `name` that holds the module at `fromUrl` (its `import.meta.url`): the first
 * directory upwards, at most three levels, whose package.json has that name (dist/index.js when built, src/… in
 * tests), so that a bundle that moved the code elsewhere does not pick up another package's files (a native
 * addon's build). Without one, the module's own directory.
 */
export function packageDir(name: string, fromUrl: string): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name === name) return dir;
    } catch {
      // no package.json here: look one level up
    }
  }
  return dirname(fileURLToPath(fromUrl));
}
