import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  tsconfig: "tsconfig.json",
  // src/relay.ts finds the addon relative to import.meta.url; shims give CJS an equivalent
  shims: true,
});
