import { closest, showValue as show } from "@lbkit/core";
import type { AlgorithmFactory } from "./algorithm.js";
import { first } from "./algorithms/first.js";
import {
  HASH_TYPES,
  type HashOptions,
  type HashType,
  hash,
  hdr,
  jumpHash,
  ketama,
  maglev,
  rdpCookie,
  source,
  uri,
  urlParam,
} from "./algorithms/hashed.js";
import { leastConn } from "./algorithms/leastconn.js";
import { peakEwma } from "./algorithms/peak-ewma.js";
import { random } from "./algorithms/random.js";
import { roundRobin, staticRoundRobin } from "./algorithms/roundrobin.js";
import { configError } from "./errors.js";

/** A bad balance line: `balancer: algorithm "<spec>" <fix>`. */
const bad = (spec: string, fix: string) => configError("algorithm", spec, fix);

export const ALGORITHM_NAMES = [
  "roundrobin",
  "static-rr",
  "leastconn",
  "first",
  "random",
  "random(<draws>)",
  "source",
  "uri",
  "url_param(<name>)",
  "hdr(<name>)",
  "rdp-cookie",
  "rdp-cookie(<name>)",
  "hash",
  "consistent",
  "ketama",
  "maglev",
  "jump",
  "peak-ewma",
] as const;

/**
 * HAProxy's `balance` line as a string: "leastconn", "random(2)", "uri depth 2 whole", "url_param userid",
 * "hdr(host) use_domain_only", "rdp-cookie(mstshash)", "source hash-type consistent hash-balance-factor 150";
 * plus lbkit's "maglev", "jump", "consistent" (Ketama) and "peak-ewma" (all on `ctx.key`).
 */
export function parseAlgorithm(spec: string): AlgorithmFactory {
  const words = spec.trim().split(/\s+/);
  const head = words.shift() ?? "";
  const m = /^([a-z_-]+)(?:\((.*)\))?$/.exec(head);
  if (!m) throw unknown(spec);
  const [, name, arg] = m as unknown as [string, string, string | undefined];
  const hashOptions: HashOptions = {};
  const flags = new Set<string>();
  const numbers = new Map<string, number>();
  let positional: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "hash-type") hashOptions.hashType = oneOf(spec, words[++i]);
    else if (w === "hash-balance-factor") hashOptions.balanceFactor = num(spec, w, words[++i]);
    else if (w === "len" || w === "depth") numbers.set(w, num(spec, w, words[++i]));
    else if (w === "check_post")
      throw bad(
        spec,
        "check_post is not supported: lbkit hashes what the request line and headers carry, not bodies",
      );
    else if (w === "whole" || w === "path-only" || w === "use_domain_only") flags.add(w);
    else if (positional === undefined && !w.includes("(")) positional = w;
    else throw bad(spec, `has an unexpected ${show(w)}`);
  }
  const allow = (...known: string[]) => {
    for (const f of flags) if (!known.includes(f)) throw bad(spec, `${show(f)} does not apply to ${name}`);
    for (const k of numbers.keys())
      if (!known.includes(k)) throw bad(spec, `${show(k)} does not apply to ${name}`);
    if (positional !== undefined && !known.includes("<name>"))
      throw bad(spec, `has an unexpected ${show(positional)}`);
  };
  const noArg = () => {
    if (arg !== undefined) throw bad(spec, `${name} takes no argument`);
  };
  const plain = (f: AlgorithmFactory) => {
    allow();
    noArg();
    if (Object.keys(hashOptions).length) throw bad(spec, `hash-type does not apply to ${name}`);
    return f;
  };
  switch (name) {
    case "roundrobin":
      return plain(roundRobin());
    case "static-rr":
      return plain(staticRoundRobin());
    case "leastconn":
      return plain(leastConn());
    case "first":
      return plain(first());
    case "peak-ewma":
      return plain(peakEwma());
    case "random": {
      allow();
      if (Object.keys(hashOptions).length) throw bad(spec, `hash-type does not apply to ${name}`);
      return random({ draws: arg === undefined ? 1 : num(spec, "draws", arg) });
    }
    case "source":
      allow();
      noArg();
      return source(hashOptions);
    case "uri":
      allow("len", "depth", "whole", "path-only");
      noArg();
      return uri({
        ...hashOptions,
        whole: flags.has("whole"),
        pathOnly: flags.has("path-only"),
        depth: numbers.get("depth") ?? 0,
        len: numbers.get("len") ?? 0,
      });
    case "url_param":
      allow("<name>");
      return urlParam(required(spec, arg ?? positional), hashOptions);
    case "hdr":
      allow("use_domain_only");
      return hdr(required(spec, arg), { ...hashOptions, useDomainOnly: flags.has("use_domain_only") });
    case "rdp-cookie":
      allow();
      return rdpCookie(arg ?? "mstshash", hashOptions);
    case "hash":
      allow();
      noArg();
      return hash(hashOptions);
    case "consistent":
    case "ketama":
      allow();
      noArg();
      return ketama(hashOptions);
    case "maglev":
      allow();
      noArg();
      return maglev(hashOptions);
    case "jump":
      allow();
      noArg();
      return jumpHash(hashOptions);
    default:
      throw unknown(spec);
  }
}

function unknown(spec: string) {
  const near = closest(spec.trim().split(/[\s(]/)[0] ?? "", [...ALGORITHM_NAMES]);
  return bad(
    spec,
    `is not known${near ? ` (did you mean "${near}"?)` : ""}; known: ${ALGORITHM_NAMES.join(", ")}`,
  );
}

function num(spec: string, what: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n))
    throw bad(spec, `${what} needs an integer, got ${show(value)}`);
  return n;
}

function oneOf(spec: string, value: string | undefined): HashType {
  if (!HASH_TYPES.includes(value as HashType))
    throw bad(spec, `hash-type ${show(value)} is not one of ${HASH_TYPES.join(", ")}`);
  return value as HashType;
}

function required(spec: string, value: string | undefined): string {
  if (!value) throw bad(spec, "needs a name, e.g. hdr(host) or url_param(userid)");
  return value;
}
