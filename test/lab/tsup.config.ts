import { defineConfig } from "tsup";

// Only the namespace lab is built (for examples/failover, a plain .mjs); suites import the .ts files directly.
export default defineConfig({
  entry: ["netns.ts"],
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node20",
});
