import { configError, show } from "../errors.js";

/** Rejects option keys an algorithm does not know, naming the key and the known ones. */
export function checkOptions(algorithm: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null)
    throw configError(`${algorithm}: options ${show(options)} must be an object`);
  for (const key of Object.keys(options))
    if (!known.includes(key))
      throw configError(
        `${algorithm}: unknown option ${show(key)} (known: ${known.length ? known.join(", ") : "none"})`,
      );
}

export function checkInt(algorithm: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw configError(`${algorithm}: ${name} ${show(value)} out of range ${min}..${max}`);
  return value;
}

export function checkNumber(algorithm: string, name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min)
    throw configError(`${algorithm}: ${name} ${show(value)} must be a finite number >= ${min}`);
  return value;
}
