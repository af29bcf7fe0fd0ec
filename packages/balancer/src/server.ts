import { MAX_WEIGHT, SERVER_STATES, type ServerState } from "@lbkit/core";
import { check, configError } from "./errors.js";

export interface ServerSpec<M = unknown> {
  /** Unique within the pool. */
  id: string;
  address?: string;
  port?: number;
  /** 0..256, default 1. 0 takes no new traffic, as in HAProxy. */
  weight?: number;
  /** Default `up`. */
  state?: ServerState;
  /** Used only while no primary server is usable. */
  backup?: boolean;
  /** HAProxy `maxconn`: in-flight requests above which the server is passed over while others have room. */
  maxConn?: number;
  /** Persistence value for `cookie()`; defaults to the id. */
  cookie?: string;
  /** Slow-start ramp in ms for this server (overrides the pool's). */
  slowStart?: number;
  /** Anything the caller wants to carry along (a URL, a socket address, a tag). */
  meta?: M;
}

export interface ServerStats {
  /** Times this server was handed out as a candidate. */
  selected: number;
  inFlight: number;
  peakInFlight: number;
  completed: number;
  failed: number;
  /** Sum of observed latencies, for a mean: totalLatencyMs / completed. */
  totalLatencyMs: number;
}

/** The live, read-only view of a server that algorithms and callers see. */
export interface Server<M = unknown> {
  readonly id: string;
  readonly address: string | undefined;
  readonly port: number | undefined;
  readonly meta: M | undefined;
  readonly backup: boolean;
  readonly maxConn: number;
  readonly cookie: string;
  /** Declaration order: stable, increasing; ties and `first` use it. */
  readonly order: number;
  /** The weight as configured now (setWeight). */
  readonly weight: number;
  /** The weight the server was declared with (HAProxy agent `NN%` is relative to it). */
  readonly initialWeight: number;
  /** The weight algorithms use: `weight`, ramped during slow start. */
  readonly effectiveWeight: number;
  readonly state: ServerState;
  readonly inFlight: number;
  readonly stats: Readonly<ServerStats>;
}

export class ServerEntry<M = unknown> implements Server<M> {
  readonly id: string;
  readonly address: string | undefined;
  readonly port: number | undefined;
  readonly meta: M | undefined;
  readonly backup: boolean;
  maxConn: number;
  readonly cookie: string;
  readonly slowStart: number | undefined;
  readonly initialWeight: number;
  weight: number;
  effectiveWeight: number;
  state: ServerState;
  /** When the current slow-start ramp began (clock ms), or undefined when not ramping. */
  rampStart: number | undefined;
  /** Which tier (primary or backup list) currently holds it, for O(1) removal. */
  tierPos = -1;
  readonly stats: ServerStats = {
    selected: 0,
    inFlight: 0,
    peakInFlight: 0,
    completed: 0,
    failed: 0,
    totalLatencyMs: 0,
  };

  constructor(
    spec: ServerSpec<M>,
    readonly order: number,
  ) {
    if (typeof spec !== "object" || spec === null)
      throw configError("server", spec, "must be an object with at least an id");
    check.object(`servers[${order}]`, spec, SERVER_KEYS);
    this.id = check.string(`servers[${order}].id`, spec.id, "unique within the pool");
    this.address = spec.address;
    this.port = spec.port;
    this.meta = spec.meta;
    this.backup = spec.backup === undefined ? false : check.bool(option(this.id, "backup"), spec.backup);
    this.weight = this.initialWeight = checkWeight(spec.weight ?? 1, spec.id);
    this.effectiveWeight = this.weight;
    this.state = checkState(spec.state ?? "up", spec.id);
    this.maxConn = checkMaxConn(spec.maxConn ?? 0, spec.id);
    this.slowStart =
      spec.slowStart === undefined ? undefined : check.ms(option(this.id, "slowStart"), spec.slowStart, 0);
    this.cookie = spec.cookie === undefined ? spec.id : check.string(option(this.id, "cookie"), spec.cookie);
    if (spec.port !== undefined) check.int(option(this.id, "port"), spec.port, 0, 65535);
  }

  get inFlight(): number {
    return this.stats.inFlight;
  }

  /** Takes new traffic: up and with an effective weight above 0. */
  get usable(): boolean {
    return this.state === "up" && this.effectiveWeight > 0;
  }

  get full(): boolean {
    return this.maxConn > 0 && this.stats.inFlight >= this.maxConn;
  }
}

const SERVER_KEYS: ReadonlySet<string> = new Set([
  "id",
  "address",
  "port",
  "weight",
  "state",
  "backup",
  "maxConn",
  "cookie",
  "slowStart",
  "meta",
]);

/** How a server's field is named in errors: `servers["web-a"].weight`. */
function option(id: string, field: string): string {
  return `servers[${JSON.stringify(id)}].${field}`;
}

export function checkWeight(weight: unknown, id: string): number {
  return check.int(option(id, "weight"), weight, 0, MAX_WEIGHT, "0 stops new traffic");
}

export function checkState(state: unknown, id: string): ServerState {
  return check.oneOf(option(id, "state"), state, SERVER_STATES);
}

export function checkMaxConn(value: unknown, id: string): number {
  return check.int(option(id, "maxConn"), value, 0, undefined, "0 = no limit");
}
