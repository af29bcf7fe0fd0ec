import { check } from "../errors.js";

/** Algorithm options are named `<algorithm>.<option>` in errors: `random.draws 0 must be an integer 1..100`. */

/** Rejects option keys an algorithm does not know, naming the key, the closest known one and all of them. */
export function checkOptions(algorithm: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  check.object(algorithm, options, known);
}

export function checkInt(algorithm: string, name: string, value: unknown, min: number, max: number): number {
  return check.int(`${algorithm}.${name}`, value, min, max);
}

export function checkNumber(algorithm: string, name: string, value: unknown, min: number): number {
  return check.number(`${algorithm}.${name}`, value, min);
}
