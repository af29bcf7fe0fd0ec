import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { moduleExports, packageDir } from "./interop.js";

describe("packageDir", () => {
  it("finds the named package above a module, and falls back to the module's own directory", () => {
    const here = dirname(fileURLToPath(import.meta.url));
    expect(packageDir("@lbkit/core", import.meta.url)).toBe(join(here, ".."));
    expect(packageDir("no-such-package", import.meta.url)).toBe(here);
  });
});

describe("moduleExports", () => {
  it("unwraps a CommonJS module's default under ESM and passes the exports through otherwise", () => {
    const exports = { f: 1 };
    expect(moduleExports({ default: exports })).toBe(exports);
    expect(moduleExports(exports)).toBe(exports);
  });
});
