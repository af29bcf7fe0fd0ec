/**
 * Option validation shared by every package. `validators(fail)` binds the checks to a package's own config error,
 * so messages keep the package's prefix and class: `const v = validators((o, v, fix) => new VrrpConfigError(o, v, fix))`.
 */

export type ConfigFail = (option: string, value: unknown, fix: string) => Error;

export interface Validators {
  /** An integer in `min..max` (`max` defaults to unbounded). */
  int(option: string, value: unknown, min: number, max?: number, hint?: string): number;
  /** A finite number of milliseconds in `min..max`. */
  ms(option: string, value: unknown, min: number, max?: number, hint?: string): number;
  /** A finite number in `min..max`. */
  number(option: string, value: unknown, min: number, max?: number, hint?: string): number;
  bool(option: string, value: unknown): boolean;
  /** A non-empty string. */
  string(option: string, value: unknown, hint?: string): string;
  /** One of the listed strings. */
  oneOf<const T extends string>(option: string, value: unknown, allowed: readonly T[]): T;
  /** A plain object whose keys are all in `known`; an unknown key is reported with the closest known one. */
  object(
    option: string,
    value: unknown,
    known: ReadonlySet<string> | readonly string[],
  ): Record<string, unknown>;
}

const UNBOUNDED = Number.MAX_SAFE_INTEGER;

function range(min: number, max: number): string {
  return max >= UNBOUNDED ? `>= ${min}` : `${min}..${max}`;
}

function withHint(text: string, hint?: string): string {
  return hint ? `${text} (${hint})` : text;
}

export function validators(fail: ConfigFail): Validators {
  return {
    int(option, value, min, max = UNBOUNDED, hint) {
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
        throw fail(option, value, withHint(`must be an integer ${range(min, max)}`, hint));
      return value;
    },
    ms(option, value, min, max = UNBOUNDED, hint) {
      if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max)
        throw fail(option, value, withHint(`must be milliseconds ${range(min, max)}`, hint));
      return value;
    },
    number(option, value, min, max = UNBOUNDED, hint) {
      if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max)
        throw fail(option, value, withHint(`must be a number ${range(min, max)}`, hint));
      return value;
    },
    bool(option, value) {
      if (typeof value !== "boolean") throw fail(option, value, "must be true or false");
      return value;
    },
    string(option, value, hint) {
      if (typeof value !== "string" || value.length === 0)
        throw fail(option, value, withHint("must be a non-empty string", hint));
      return value;
    },
    oneOf(option, value, allowed) {
      if (typeof value !== "string" || !(allowed as readonly string[]).includes(value))
        throw fail(option, value, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
      return value as (typeof allowed)[number];
    },
    object(option, value, known) {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        throw fail(option, value, "must be an object");
      const names = known instanceof Set ? known : new Set(known as readonly string[]);
      for (const key of Object.keys(value)) {
        if (names.has(key)) continue;
        const near = closest(key, [...names]);
        throw fail(
          option ? `${option}.${key}` : key,
          (value as Record<string, unknown>)[key],
          `is not an option${near ? ` (did you mean "${near}"?)` : ""}; known: ${[...names].join(", ")}`,
        );
      }
      return value as Record<string, unknown>;
    },
  };
}

/** The known name within edit distance 2 of `name`, if any (for "did you mean" hints). */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  const lower = name.toLowerCase();
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}
