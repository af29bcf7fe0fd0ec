/**
 * Pure request routing (HAProxy `use_backend <b> if <cond>` / `default_backend`, nginx `geo`): request facts in,
 * backend id out. Rules are compiled once (validated, with errors naming the option); the first rule that
 * matches wins, then the default. All conditions inside one rule must hold (AND); a list inside a condition
 * is any-of (OR), as HAProxy ACL values are.
 */
import { CidrMap } from "./cidr.js";
import { ProxyConfigError } from "./errors.js";

/** What routing may look at. L4 frontends only know `source`. */
export interface RequestFacts {
  /** Client address, without port (`192.0.2.1`, `2001:db8::1`, `::ffff:192.0.2.1`). */
  source: string;
  method?: string;
  /** Host without port, lower-case. */
  host?: string;
  /** Path without query. */
  path?: string;
  /** Raw query string without `?`, or "" */
  query?: string;
  /** A request header's value (first occurrence), by lower-case name. */
  header?(name: string): string | undefined;
}

export interface ValueMatch {
  name: string;
  /** Absent: the header/parameter only has to be present. */
  value?: string | RegExp;
}

export interface RouteMatch {
  /** `example.com` exact, `.example.com` the domain and every subdomain, `*.example.com` subdomains only. */
  host?: string | readonly string[];
  /** Exact path. */
  path?: string | readonly string[];
  /** Path prefix (HAProxy `path_beg`). */
  pathPrefix?: string | readonly string[];
  /** Path regex (HAProxy `path_reg`). */
  pathRegex?: RegExp;
  /** Methods (upper-case). */
  method?: string | readonly string[];
  /** A request header (HAProxy `hdr(name)`); several: all must match. */
  header?: ValueMatch | readonly ValueMatch[];
  /** A query parameter (HAProxy `url_param(name)`); several: all must match. */
  query?: ValueMatch | readonly ValueMatch[];
  /** Client address in any of these CIDRs (HAProxy `src`). */
  src?: string | readonly string[];
  /** Your own condition. */
  predicate?: (facts: RequestFacts) => boolean;
}

/** `use_backend <useBackend> if <conditions>`, or an nginx `geo` map: client CIDR → backend, longest prefix. */
export type RouteRule = (RouteMatch & { useBackend: string }) | { geo: Readonly<Record<string, string>> };

type Test = (f: RequestFacts) => boolean;
type Compiled = { backend: string; test: Test } | { geo: CidrMap<string> };

const MATCH_KEYS = new Set([
  "host",
  "path",
  "pathPrefix",
  "pathRegex",
  "method",
  "header",
  "query",
  "src",
  "predicate",
  "useBackend",
]);

function list<T>(v: T | readonly T[]): readonly T[] {
  return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

function strings(option: string, v: unknown): string[] {
  const items = list(v as string | string[]);
  if (items.length === 0)
    throw new ProxyConfigError(option, v, "is an empty list (omit it to match anything)");
  for (const s of items)
    if (typeof s !== "string" || s.length === 0)
      throw new ProxyConfigError(option, s, "must be a non-empty string");
  return items as string[];
}

function hostTest(option: string, v: unknown): Test {
  const exact = new Set<string>();
  const suffixes: string[] = []; // ".example.com": the domain itself and subdomains
  const wild: string[] = []; // "*.example.com": subdomains only
  for (const raw of strings(option, v)) {
    const h = raw.toLowerCase();
    if (h.startsWith("*.")) wild.push(h.slice(1));
    else if (h.startsWith(".")) suffixes.push(h);
    else if (h.includes("*"))
      throw new ProxyConfigError(option, raw, "may use * only as a leading label (*.example.com)");
    else exact.add(h);
  }
  return (f) => {
    const h = f.host;
    if (h === undefined) return false;
    if (exact.has(h)) return true;
    for (const s of suffixes) if (h.endsWith(s) || h === s.slice(1)) return true;
    for (const s of wild) if (h.length > s.length && h.endsWith(s)) return true;
    return false;
  };
}

function valueTest(
  option: string,
  m: ValueMatch,
  read: (f: RequestFacts, name: string) => string | undefined,
): Test {
  if (typeof m !== "object" || m === null || typeof m.name !== "string" || m.name.length === 0)
    throw new ProxyConfigError(option, m, "must be { name, value? } with a non-empty name");
  const name = option.endsWith(".header") ? m.name.toLowerCase() : m.name;
  const want = m.value;
  if (want !== undefined && typeof want !== "string" && !(want instanceof RegExp))
    throw new ProxyConfigError(`${option}.value`, want, "must be a string (exact) or a RegExp");
  if (want === undefined) return (f) => read(f, name) !== undefined;
  if (typeof want === "string") return (f) => read(f, name) === want;
  return (f) => {
    const got = read(f, name);
    if (got === undefined) return false;
    want.lastIndex = 0;
    return want.test(got);
  };
}

/** The first value of query parameter `name` in a raw query string (percent-decoding `+` and `%XX`). */
export function queryParam(query: string | undefined, name: string): string | undefined {
  if (!query) return undefined;
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf("&", start);
    if (end < 0) end = query.length;
    const eq = query.indexOf("=", start);
    const keyEnd = eq >= 0 && eq < end ? eq : end;
    if (keyEnd - start === name.length && query.startsWith(name, start)) {
      const raw = keyEnd === end ? "" : query.slice(keyEnd + 1, end);
      try {
        return decodeURIComponent(raw.replace(/\+/g, " "));
      } catch {
        return raw;
      }
    }
    start = end + 1;
  }
  return undefined;
}

const readHeader = (f: RequestFacts, name: string) => f.header?.(name);
const readQuery = (f: RequestFacts, name: string) => queryParam(f.query, name);

function compileMatch(i: number, rule: RouteMatch & { useBackend: string }): Test {
  const at = `rules[${i}]`;
  for (const key of Object.keys(rule))
    if (!MATCH_KEYS.has(key))
      throw new ProxyConfigError(
        `${at}.${key}`,
        key,
        `is not a rule option (known: ${[...MATCH_KEYS].join(", ")})`,
      );
  const tests: Test[] = [];
  if (rule.host !== undefined) tests.push(hostTest(`${at}.host`, rule.host));
  if (rule.path !== undefined) {
    const set = new Set(strings(`${at}.path`, rule.path));
    tests.push((f) => f.path !== undefined && set.has(f.path));
  }
  if (rule.pathPrefix !== undefined) {
    const prefixes = strings(`${at}.pathPrefix`, rule.pathPrefix);
    tests.push((f) => {
      const p = f.path;
      if (p === undefined) return false;
      for (const pre of prefixes) if (p.startsWith(pre)) return true;
      return false;
    });
  }
  if (rule.pathRegex !== undefined) {
    const re = rule.pathRegex;
    if (!(re instanceof RegExp)) throw new ProxyConfigError(`${at}.pathRegex`, re, "must be a RegExp");
    tests.push((f) => {
      if (f.path === undefined) return false;
      re.lastIndex = 0;
      return re.test(f.path);
    });
  }
  if (rule.method !== undefined) {
    const set = new Set(strings(`${at}.method`, rule.method).map((m) => m.toUpperCase()));
    tests.push((f) => f.method !== undefined && set.has(f.method));
  }
  if (rule.header !== undefined)
    for (const m of list(rule.header)) tests.push(valueTest(`${at}.header`, m, readHeader));
  if (rule.query !== undefined)
    for (const m of list(rule.query)) tests.push(valueTest(`${at}.query`, m, readQuery));
  if (rule.src !== undefined) {
    const map = new CidrMap<true>();
    for (const c of strings(`${at}.src`, rule.src))
      if (!map.set(c, true))
        throw new ProxyConfigError(
          `${at}.src`,
          c,
          "is not an IPv4/IPv6 address or CIDR (10.0.0.0/8, 2001:db8::/32)",
        );
    tests.push((f) => map.get(f.source) === true);
  }
  if (rule.predicate !== undefined) {
    if (typeof rule.predicate !== "function")
      throw new ProxyConfigError(`${at}.predicate`, rule.predicate, "must be a function (facts) => boolean");
    tests.push(rule.predicate);
  }
  if (tests.length === 1) return tests[0] as Test;
  if (tests.length === 0) return () => true;
  return (f) => {
    for (const t of tests) if (!t(f)) return false;
    return true;
  };
}

/** A compiled, immutable rule set (from `routes()`): swap the whole router to change rules at run time. */
export interface Router {
  /** Every backend id the rules and the default can name (for validation against the configured backends). */
  readonly backends: ReadonlySet<string>;
  readonly defaultBackend: string | undefined;
  /** The backend for these facts: the first matching rule, then the default; undefined when neither. */
  route(facts: RequestFacts): string | undefined;
}

/** Compiles `use_backend` rules and `geo` maps (validated: ProxyConfigError names the rule and option). */
export function routes(rules: readonly RouteRule[] = [], defaultBackend?: string): Router {
  return new CompiledRoutes(rules, defaultBackend);
}

class CompiledRoutes implements Router {
  private readonly rules: readonly Compiled[];
  /** Every backend id the rules and the default can name (for validation against the configured backends). */
  readonly backends: ReadonlySet<string>;

  constructor(
    rules: readonly RouteRule[] = [],
    readonly defaultBackend: string | undefined,
  ) {
    if (!Array.isArray(rules)) throw new ProxyConfigError("rules", rules, "must be an array of rules");
    const named = new Set<string>();
    this.rules = rules.map((rule, i): Compiled => {
      if (typeof rule !== "object" || rule === null)
        throw new ProxyConfigError(`rules[${i}]`, rule, "must be { useBackend, ...conditions } or { geo }");
      if ("geo" in rule) {
        const map = new CidrMap<string>();
        const entries = Object.entries(rule.geo ?? {});
        if (entries.length === 0)
          throw new ProxyConfigError(`rules[${i}].geo`, rule.geo, "is empty: map CIDRs to backend ids");
        for (const [cidr, backend] of entries) {
          if (typeof backend !== "string" || !backend)
            throw new ProxyConfigError(`rules[${i}].geo[${cidr}]`, backend, "must be a backend id");
          if (!map.set(cidr, backend))
            throw new ProxyConfigError(
              `rules[${i}].geo`,
              cidr,
              "is not an IPv4/IPv6 CIDR (10.0.0.0/8, 2001:db8::/32)",
            );
          named.add(backend);
        }
        return { geo: map };
      }
      if (typeof rule.useBackend !== "string" || !rule.useBackend)
        throw new ProxyConfigError(`rules[${i}].useBackend`, rule.useBackend, "must name a backend id");
      named.add(rule.useBackend);
      return { backend: rule.useBackend, test: compileMatch(i, rule) };
    });
    if (defaultBackend !== undefined) {
      if (typeof defaultBackend !== "string" || !defaultBackend)
        throw new ProxyConfigError("defaultBackend", defaultBackend, "must be a backend id");
      named.add(defaultBackend);
    }
    this.backends = named;
  }

  /** The backend for these facts: the first matching rule, then the default; undefined when neither. */
  route(facts: RequestFacts): string | undefined {
    for (const r of this.rules) {
      if ("geo" in r) {
        const b = r.geo.get(facts.source);
        if (b !== undefined) return b;
      } else if (r.test(facts)) return r.backend;
    }
    return this.defaultBackend;
  }
}
