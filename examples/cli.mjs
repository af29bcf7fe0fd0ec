// Command-line handling shared by the examples: node:util parseArgs (strict) plus `--help`/`-h`. A wrong option
// prints the error and the usage and exits 2 — no stack trace; --help prints the usage and exits 0.
import { parseArgs } from "node:util";

/**
 * @param {string} usage  the text --help prints: a "usage:" line, then the options
 * @param {import("node:util").ParseArgsConfig["options"]} [options]
 * @returns {Record<string, any>} the parsed option values
 */
export function cli(usage, options = {}) {
  let values;
  try {
    ({ values } = parseArgs({
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
    }));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : err}\n\n${usage.trim()}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage.trim());
    process.exit(0);
  }
  return values;
}
