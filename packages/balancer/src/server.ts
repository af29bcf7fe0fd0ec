import { configError, show } from "./errors.js";

/**
 * HAProxy's administrative and operational states in one field:
 * - `up`: takes new traffic (when its weight is above 0)
 * - `drain`: no new traffic, but persistent sessions (cookie) still reach it
 * - `down`: failed its health checks; no traffic
 * - `maint`: taken out by the operator; no traffic
 */
export type ServerState = "up" | "down" | "drain" | "maint";
export const SERVER_STATES: readonly ServerState[] = ["up", "down", "drain", "maint"];

/** HAProxy's weight range: 0 (no new traffic) to 256. */
export const MAX_WEIGHT = 256;

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
    if (typeof spec !== "object" || spec === null) throw configError(`server ${show(spec)} is not an object`);
    if (typeof spec.id !== "string" || spec.id.length === 0)
      throw configError(`server id ${show(spec.id)} must be a non-empty string`);
    this.id = spec.id;
    this.address = spec.address;
    this.port = spec.port;
    this.meta = spec.meta;
    this.backup = spec.backup ?? false;
    this.weight = this.initialWeight = checkWeight(spec.weight ?? 1, spec.id);
    this.effectiveWeight = this.weight;
    this.state = checkState(spec.state ?? "up", spec.id);
    this.maxConn = checkMaxConn(spec.maxConn ?? 0, spec.id);
    this.slowStart =
      spec.slowStart === undefined ? undefined : checkCount(spec.slowStart, "slowStart", spec.id);
    this.cookie = spec.cookie ?? spec.id;
    if (spec.port !== undefined && !(Number.isInteger(spec.port) && spec.port >= 0 && spec.port <= 65535))
      throw configError(`port ${show(spec.port)} of server ${show(spec.id)} out of range 0..65535`);
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

export function checkWeight(weight: unknown, id: string): number {
  if (typeof weight !== "number" || !Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT)
    throw configError(
      `weight ${show(weight)} of server ${show(id)} out of range 0..${MAX_WEIGHT} (must be an integer; 0 stops new traffic)`,
    );
  return weight;
}

export function checkState(state: unknown, id: string): ServerState {
  if (!SERVER_STATES.includes(state as ServerState))
    throw configError(`state ${show(state)} of server ${show(id)} is not one of ${SERVER_STATES.join(", ")}`);
  return state as ServerState;
}

export function checkMaxConn(value: unknown, id: string): number {
  return checkCount(value, "maxConn", id);
}

function checkCount(value: unknown, what: string, id: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    throw configError(`${what} ${show(value)} of server ${show(id)} must be an integer >= 0`);
  return value;
}
