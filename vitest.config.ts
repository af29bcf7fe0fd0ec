import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

// Tests import @lbkit/* from source so the edit-test loop needs no build. Child processes that tests
// start (network-namespace nodes, examples) import the built dist, which scripts/test.sh builds first.
const alias = {
  "@lbkit/core/testing": fileURLToPath(new URL("./packages/core/src/testing/index.ts", import.meta.url)),
  "@lbkit/core": pkg("core"),
  "@lbkit/balancer": pkg("balancer"),
  "@lbkit/healthcheck": pkg("healthcheck"),
  "@lbkit/proxy": pkg("proxy"),
  "@lbkit/vrrp": pkg("vrrp"),
  "@lbkit/arp": pkg("arp"),
  "@lbkit/kernel-lb": pkg("kernel-lb"),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: { name: "unit", include: ["packages/*/src/**/*.test.ts"] },
      },
      {
        resolve: { alias },
        test: {
          name: "system",
          include: ["test/**/*.test.ts"],
          // network-namespace and interop suites share the kernel: one file at a time
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
