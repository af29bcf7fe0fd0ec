/** What moves an instance's priority or puts it in fault, shared by the instance, its trackers and sync groups. */

/**
 * Anything that moves this router's priority or puts it in fault: a health check, an interface watcher, a
 * custom function. @lbkit/healthcheck produces these; any object of this shape works (no dependency).
 */
export interface Tracker {
  /** added to the base priority while it applies (keepalived `weight`), 0 when it does not */
  readonly delta: number;
  /** true puts the instance in FAULT (keepalived: a tracked interface down, a weight-0 script failing) */
  readonly fault: boolean;
  on(event: "change", fn: () => void): unknown;
  off?(event: "change", fn: () => void): unknown;
}

/** A check that must pass for this node to hold the VIP (e.g. the gateway answers); failing means FAULT. */
export interface Witness {
  check(): Promise<boolean>;
  /** how often to run it, ms (default 1000) */
  interval?: number;
}
