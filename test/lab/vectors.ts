// The keepalived 2.2.7 captures in shared/vectors/vrrp: shared/ sits beside the repository (in CI and in the
// work tree alike). Fails with the paths it tried rather than skipping: the codec tests depend on them.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CANDIDATES = [
  fileURLToPath(new URL("../../../shared/vectors/vrrp", import.meta.url)),
  "/work/shared/vectors/vrrp",
];

export function vrrpVectorsDir(): string {
  const dir = CANDIDATES.find((d) => existsSync(join(d, "README.md")));
  if (!dir)
    throw new Error(`test vectors not found: shared/vectors/vrrp is expected at ${CANDIDATES.join(" or ")}`);
  return dir;
}

export function vrrpVector(file: string): string {
  return join(vrrpVectorsDir(), file);
}
