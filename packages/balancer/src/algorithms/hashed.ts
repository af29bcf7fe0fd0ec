import type { Algorithm, AlgorithmFactory } from "../algorithm.js";
import type { PickContext } from "../context.js";
import { check, configError } from "../errors.js";
import { hash32 } from "../hash.js";
import type { Server } from "../server.js";
import { LoadBound } from "./bounded-load.js";
import { JumpHash } from "./jump.js";
import { KetamaRing } from "./ketama.js";
import {
  contextKey,
  type HdrKeyOptions,
  hdrKey,
  type KeyFn,
  rdpCookieKey,
  sourceKey,
  type UriKeyOptions,
  uriKey,
  urlParamKey,
} from "./keys.js";
import { MaglevTable } from "./maglev.js";
import { MapBased } from "./map-based.js";
import type { HashMapping } from "./mapping.js";
import { checkInt, checkOptions } from "./options.js";
import { SmoothRoundRobin } from "./roundrobin.js";

/**
 * How keys map to servers (HAProxy `hash-type`, plus Maglev and jump hash):
 * - `map-based`: modulo over a weighted table; perfectly weighted, but changes remap most keys (HAProxy's default)
 * - `consistent`: Ketama ring; changes move only the changed server's keys
 * - `maglev`: Maglev lookup table; consistent, near-perfect balance, O(1) lookup
 * - `jump`: jump consistent hash over weighted slots; consistent, no table
 */
export type HashType = "map-based" | "consistent" | "maglev" | "jump";
export const HASH_TYPES: readonly HashType[] = ["map-based", "consistent", "maglev", "jump"];

export interface HashOptions {
  hashType?: HashType;
  /** HAProxy `hash-balance-factor` in percent (> 100): bounded loads. Off by default. */
  balanceFactor?: number;
  /** Ketama points per unit of weight (default: at least 40, more for small pools so the ring has ≥ 16384 points). */
  points?: number;
  /** Maglev table size as a multiple of the server count, rounded up to a prime (default 100, at least 100). */
  tableFactor?: number;
}

const HASH_OPTION_KEYS = ["hashType", "balanceFactor", "points", "tableFactor"] as const;

/**
 * Work a pick may spend on a table or ring replacement: slot claims (Maglev), points (Ketama), slots (jump).
 * About 0.05–0.4 ms; a 4.2 M-entry Maglev table (100,000 servers) is replaced over some tens of thousands of picks.
 */
export const PICK_BUDGET = 8_192;

/**
 * A hash-based algorithm: a key from the request, a mapping from key hash to servers, optionally bounded loads.
 * A request without a key is balanced round-robin, as HAProxy does for a missing header, parameter or cookie.
 */
export class Hashed implements Algorithm {
  private readonly rotation = new SmoothRoundRobin();
  private readonly bound: LoadBound | undefined;

  constructor(
    readonly name: string,
    private readonly key: KeyFn,
    private readonly mapping: HashMapping,
    balanceFactor: number | undefined,
    /** map-based and Maglev rebuild their table on any weight change: no slow start for them */
    readonly staticWeights: boolean,
  ) {
    this.bound = balanceFactor === undefined ? undefined : new LoadBound(balanceFactor);
  }

  add(server: Server): void {
    this.mapping.add(server);
    this.rotation.add(server);
    this.bound?.add(server);
  }

  remove(server: Server): void {
    this.mapping.remove(server);
    this.rotation.remove(server);
    this.bound?.remove(server);
  }

  reweight(server: Server): void {
    this.mapping.reweight(server);
    this.rotation.reweight(server);
    this.bound?.update(server);
  }

  settle(): void {
    this.mapping.settle?.();
  }

  loadChanged(server: Server): void {
    this.bound?.update(server);
  }

  pick(ctx: PickContext): Server | undefined {
    // a table or ring being replaced advances by a bounded slice per pick (the current one serves meanwhile)
    this.mapping.work?.(PICK_BUDGET);
    const key = this.key(ctx);
    // a custom key function may return anything: only a string is a key
    if (typeof key !== "string") return this.rotation.pick();
    const h = hash32(key);
    // a table being replaced may, rarely, have no current server near the key: rotate rather than fail
    return (
      (this.bound ? this.bound.choose(this.mapping.walk(h)) : this.mapping.owner(h)) ?? this.rotation.pick()
    );
  }

  *fallbacks(ctx: PickContext, first: Server): Generator<Server> {
    const key = this.key(ctx);
    if (typeof key !== "string") return;
    for (const s of this.mapping.walk(hash32(key))) if (s !== first) yield s;
  }
}

function mappingFor(
  algorithm: string,
  options: HashOptions,
): { mapping: () => HashMapping; factor?: number; staticWeights: boolean } {
  const type = options.hashType ?? "map-based";
  check.oneOf(`${algorithm}.hashType`, type, HASH_TYPES);
  const factor =
    options.balanceFactor === undefined
      ? undefined
      : checkInt(algorithm, "balanceFactor", options.balanceFactor, 101, 100_000);
  if (factor !== undefined && type === "map-based")
    throw configError(
      `${algorithm}.balanceFactor`,
      factor,
      "needs a consistent hashType (consistent, maglev or jump), not map-based",
    );
  const points =
    options.points === undefined ? undefined : checkInt(algorithm, "points", options.points, 1, 10_000);
  const tableFactor = checkInt(algorithm, "tableFactor", options.tableFactor ?? 100, 100, 10_000);
  if (options.points !== undefined && type !== "consistent")
    throw configError(
      `${algorithm}.points`,
      options.points,
      `applies to hashType consistent only, not ${type}`,
    );
  if (options.tableFactor !== undefined && type !== "maglev")
    throw configError(
      `${algorithm}.tableFactor`,
      options.tableFactor,
      `applies to hashType maglev only, not ${type}`,
    );
  const mapping = (): HashMapping => {
    switch (type) {
      case "map-based":
        return new MapBased();
      case "consistent":
        return new KetamaRing(points);
      case "maglev":
        return new MaglevTable(tableFactor);
      case "jump":
        return new JumpHash();
    }
  };
  const staticWeights = type === "map-based" || type === "maglev";
  return factor === undefined ? { mapping, staticWeights } : { mapping, factor, staticWeights };
}

function hashFactory(
  name: string,
  key: KeyFn,
  options: HashOptions,
  extraKeys: readonly string[] = [],
): AlgorithmFactory {
  checkOptions(name, options, [...HASH_OPTION_KEYS, ...extraKeys]);
  const { mapping, factor, staticWeights } = mappingFor(name, options);
  const label = options.hashType && options.hashType !== "map-based" ? `${name} (${options.hashType})` : name;
  return { name: label, create: () => new Hashed(label, key, mapping(), factor, staticWeights) };
}

export interface HashKeyOptions extends HashOptions {
  /** Where the key comes from; default `ctx.key`. */
  key?: KeyFn;
}

/** HAProxy `hash <expr>`: any key you compute, by default `ctx.key`. */
export function hash(options: HashKeyOptions = {}): AlgorithmFactory {
  const { key = contextKey, ...rest } = options;
  if (typeof key !== "function")
    throw configError("hash.key", key, "must be a function (ctx) => string | undefined");
  return hashFactory("hash", key, rest);
}

/** HAProxy `source`: the client address. */
export function source(options: HashOptions = {}): AlgorithmFactory {
  return hashFactory("source", sourceKey, options);
}

/** HAProxy `uri`: the request path (see {@link UriKeyOptions}). */
export function uri(options: HashOptions & UriKeyOptions = {}): AlgorithmFactory {
  const { whole, depth, len, pathOnly, ...rest } = options;
  checkOptions("uri", options, [...HASH_OPTION_KEYS, "whole", "depth", "len", "pathOnly"]);
  const keyOptions: UriKeyOptions = {
    whole: whole ?? false,
    depth: checkInt("uri", "depth", depth ?? 0, 0, 1_000),
    len: checkInt("uri", "len", len ?? 0, 0, 1_000_000),
    pathOnly: pathOnly ?? false,
  };
  return hashFactory("uri", uriKey(keyOptions), rest);
}

/** HAProxy `url_param(<name>)`: a query-string parameter. */
export function urlParam(name: string, options: HashOptions = {}): AlgorithmFactory {
  checkName("url_param", name);
  return hashFactory(`url_param(${name})`, urlParamKey(name), options);
}

/** HAProxy `hdr(<name>)`: a request header. */
export function hdr(name: string, options: HashOptions & HdrKeyOptions = {}): AlgorithmFactory {
  checkName("hdr", name);
  const { useDomainOnly, ...rest } = options;
  checkOptions("hdr", options, [...HASH_OPTION_KEYS, "useDomainOnly"]);
  return hashFactory(`hdr(${name})`, hdrKey(name, { useDomainOnly: useDomainOnly ?? false }), rest);
}

/** HAProxy `rdp-cookie(<name>)`: the RDP routing cookie, `mstshash` by default. */
export function rdpCookie(name = "mstshash", options: HashOptions = {}): AlgorithmFactory {
  checkName("rdp-cookie", name);
  return hashFactory(`rdp-cookie(${name})`, rdpCookieKey(name), options);
}

/** Ketama consistent hashing on `ctx.key` (or your key function). */
export function ketama(options: Omit<HashKeyOptions, "hashType"> = {}): AlgorithmFactory {
  return hash({ ...options, hashType: "consistent" });
}

/** Maglev hashing on `ctx.key` (or your key function). */
export function maglev(options: Omit<HashKeyOptions, "hashType"> = {}): AlgorithmFactory {
  return hash({ ...options, hashType: "maglev" });
}

/** Jump consistent hashing on `ctx.key` (or your key function). */
export function jumpHash(options: Omit<HashKeyOptions, "hashType"> = {}): AlgorithmFactory {
  return hash({ ...options, hashType: "jump" });
}

/** Bounded-load consistent hashing (Ketama by default) with HAProxy's `hash-balance-factor`. */
export function boundedLoad(
  options: Omit<HashKeyOptions, "balanceFactor"> & { balanceFactor?: number } = {},
): AlgorithmFactory {
  return hash({ hashType: "consistent", balanceFactor: 125, ...options });
}

function checkName(algorithm: string, name: unknown): void {
  if (typeof name !== "string" || name.length === 0)
    throw configError(`${algorithm}.name`, name, "must be a non-empty string");
}
