/**
 * CommonJS modules loaded with `import()` arrive as `{ default: exports }` under ESM and as the exports themselves
 * under CJS builds; this returns the exports either way (used for `netlink` and `raw-socket`).
 */
export function moduleExports<T>(mod: T | { default: T }): T {
  return (
    typeof mod === "object" && mod !== null && "default" in mod ? (mod as { default: T }).default : mod
  ) as T;
}
