import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The BGP crash bench runs under vitest only to reuse the TypeScript network-namespace lab (test/lab); it is
// not part of the test suites (the root config includes test/** and packages/*/src only).
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["bench/bgp/*.bench.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
