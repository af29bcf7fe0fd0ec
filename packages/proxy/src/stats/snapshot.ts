/**
 * The stats snapshot: plain data, one row per frontend, backend and server, in HAProxy's terms. Built by
 * ProxyStats; every rendering (HTML, JSON, CSV, Prometheus) is a pure function of it.
 */
import type { Traffic } from "./counters.js";

/** HAProxy's `status` column values lbkit uses. */
export type RowStatus = "OPEN" | "UP" | "DOWN" | "DRAIN" | "MAINT" | "no check";

export interface CheckInfo {
  /** HAProxy check_status: L4OK, L4CON, L7STS, … */
  status: string;
  /** HTTP status of the last L7 check, when there was one. */
  code: number | undefined;
  /** ms. */
  duration: number;
  desc: string;
  /** Seconds since the last check ended. */
  ago: number;
}

export interface ServerRow {
  backend: string;
  id: string;
  addr: string;
  status: RowStatus;
  /**
   * HAProxy's transition counter while the check health is between its extremes: `UP n/fall` ("going down": n =
   * health - rise + 1, so `UP 1/3` is one failure from DOWN) and `DOWN n/rise` ("going up": n successes so far);
   * undefined when settled.
   */
  transition: string | undefined;
  /** Seconds in the current state. */
  lastchg: number;
  /** Seconds spent DOWN in all. */
  downtime: number;
  weight: number;
  /** The weight it was declared with. */
  uweight: number;
  backup: boolean;
  scur: number;
  smax: number;
  /** maxconn, 0 = none. */
  slim: number;
  /** Requests waiting in this server's own queue now, and at most so far (HAProxy's srv_queue). */
  qcur: number;
  qmax: number;
  /** The server's maxqueue, 0 = none. */
  qlimit: number;
  /** Times picked by the balancer (lbtot). */
  lbtot: number;
  /** Failed checks, and transitions to DOWN. */
  chkfail: number;
  chkdown: number;
  check: CheckInfo | undefined;
  rise: number;
  fall: number;
  health: number;
  rate: number;
  /** Seconds since the last transaction, -1 never. */
  lastsess: number;
  traffic: Traffic;
}

export interface BackendRow {
  id: string;
  mode: "http" | "tcp";
  algo: string;
  status: RowStatus;
  lastchg: number;
  downtime: number;
  /** Sum of the weights of usable servers. */
  weight: number;
  /** Usable active and backup servers. */
  act: number;
  bck: number;
  scur: number;
  smax: number;
  qcur: number;
  qmax: number;
  /** maxqueue, 0 = none. */
  qlimit: number;
  chkdown: number;
  rate: number;
  lastsess: number;
  traffic: Traffic;
  servers: ServerRow[];
}

export interface FrontendRow {
  id: string;
  mode: "http" | "tcp";
  status: RowStatus;
  scur: number;
  smax: number;
  slim: number;
  /** Connections accepted. */
  connTot: number;
  /** Transactions per second now (req_rate for http, sessions for tcp). */
  rate: number;
  traffic: Traffic;
}

export interface StatsSnapshot {
  /** Wall-clock time of the snapshot, ms since the epoch. */
  at: number;
  /** Seconds since the stats began. */
  uptime: number;
  pid: number;
  frontends: FrontendRow[];
  backends: BackendRow[];
}

/** The snapshot as JSON (histograms included). */
export function renderJson(snap: StatsSnapshot): string {
  return JSON.stringify(snap);
}
