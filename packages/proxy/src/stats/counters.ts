/**
 * Traffic counters in HAProxy's vocabulary (pure): plain number fields updated in place by `record()` from one
 * finished transaction (the proxy's `request`/`session` event), no allocation per request. One `Traffic` per
 * frontend, backend and server; the snapshot and the renderers read them.
 */
import type { TransactionLog } from "../shell.js";

/** A per-second event rate like HAProxy's freq_ctr: this second's count plus the previous one's, prorated. */
export interface Rate {
  /** Whole second (clock ms / 1000, floored) the `cur` count belongs to. */
  sec: number;
  cur: number;
  prev: number;
  /** Highest per-second rate seen. */
  max: number;
}

/** Upper bounds, seconds, of the request and connect time histograms (Prometheus `le`). */
export const HISTOGRAM_BOUNDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface Histogram {
  /** Non-cumulative count per bound, plus one slot for +Inf. */
  counts: number[];
  /** Sum of observations, seconds. */
  sum: number;
  count: number;
}

/** Averages over the last ~1024 samples (HAProxy's qtime/ctime/rtime/ttime) and maxima, ms. */
export interface Timing {
  avg: number;
  max: number;
  n: number;
}

export interface Traffic {
  /** Sessions (L4) or transactions (L7) ended. */
  stot: number;
  bin: number;
  bout: number;
  /** Responses by class: 1xx, 2xx, 3xx, 4xx, 5xx, other. */
  hrsp: [number, number, number, number, number, number];
  reqTot: number;
  /** Denied requests (http-request deny). */
  dreq: number;
  dresp: number;
  /** Request errors: bad or aborted requests (termination in phase R). */
  ereq: number;
  /** Connection errors to servers (ended while connecting). */
  econ: number;
  /** Response errors: the server aborted, timed out or answered badly after the connection. */
  eresp: number;
  /** Internal errors (termination I). */
  eint: number;
  /** Retries, and redispatches to another server. */
  wretr: number;
  wredis: number;
  cliAbrt: number;
  srvAbrt: number;
  /** Clock ms of the last transaction, -1 never. */
  lastSess: number;
  rate: Rate;
  qtime: Timing;
  ctime: Timing;
  rtime: Timing;
  ttime: Timing;
  requestTime: Histogram;
  connectTime: Histogram;
}

export function newRate(): Rate {
  return { sec: 0, cur: 0, prev: 0, max: 0 };
}

export function newHistogram(): Histogram {
  return { counts: new Array<number>(HISTOGRAM_BOUNDS.length + 1).fill(0), sum: 0, count: 0 };
}

function newTiming(): Timing {
  return { avg: 0, max: 0, n: 0 };
}

export function newTraffic(): Traffic {
  return {
    stot: 0,
    bin: 0,
    bout: 0,
    hrsp: [0, 0, 0, 0, 0, 0],
    reqTot: 0,
    dreq: 0,
    dresp: 0,
    ereq: 0,
    econ: 0,
    eresp: 0,
    eint: 0,
    wretr: 0,
    wredis: 0,
    cliAbrt: 0,
    srvAbrt: 0,
    lastSess: -1,
    rate: newRate(),
    qtime: newTiming(),
    ctime: newTiming(),
    rtime: newTiming(),
    ttime: newTiming(),
    requestTime: newHistogram(),
    connectTime: newHistogram(),
  };
}

/** Counts one event at clock time `now` (ms). */
export function bump(r: Rate, now: number): void {
  const sec = Math.floor(now / 1000);
  if (sec !== r.sec) {
    r.prev = sec === r.sec + 1 ? r.cur : 0;
    r.cur = 0;
    r.sec = sec;
  }
  r.cur++;
  const v = r.cur + r.prev * (1 - (now - sec * 1000) / 1000);
  if (v > r.max) r.max = Math.ceil(v);
}

/** Events over the last second at clock time `now`. */
export function rateOf(r: Rate, now: number): number {
  const sec = Math.floor(now / 1000);
  const frac = (now - sec * 1000) / 1000;
  if (sec === r.sec) return Math.round(r.cur + r.prev * (1 - frac));
  if (sec === r.sec + 1) return Math.round(r.cur * (1 - frac));
  return 0;
}

export function observe(h: Histogram, seconds: number): void {
  let i = 0;
  while (i < HISTOGRAM_BOUNDS.length && seconds > (HISTOGRAM_BOUNDS[i] as number)) i++;
  (h.counts[i] as number)++;
  h.sum += seconds;
  h.count++;
}

function time(t: Timing, ms: number): void {
  if (ms < 0) return;
  if (t.n < 1024) t.n++;
  t.avg += (ms - t.avg) / t.n;
  if (ms > t.max) t.max = ms;
}

/**
 * Adds one finished transaction (or L4 session) to `c`, at clock time `now`. For a server's counters (`server`)
 * HAProxy's rules differ in two places, and so do these (checked against haproxy 2.6 in test/proxy-stats): every
 * connection attempt is a session of the server (`stot` grows by the retries that stayed on it), and only
 * responses the server itself sent count in its 1xx–5xx (a 503 or 504 the proxy answered does not).
 */
export function record(c: Traffic, e: TransactionLog, now: number, server = false): void {
  const cause = e.termination.charCodeAt(0);
  const phase = e.termination.charCodeAt(1);
  c.stot += server ? 1 + Math.max(0, e.retries - e.redispatches) : 1;
  c.bin += e.bytesIn;
  c.bout += e.bytesOut;
  c.lastSess = now;
  bump(c.rate, now);
  // the status came from the server: a normal end, or an end after the response head (data / last data phase)
  const fromServer = cause === DASH || phase === D || phase === L;
  if (e.status !== undefined && (!server || fromServer)) {
    c.reqTot++;
    const cls = Math.floor(e.status / 100);
    const i = cls >= 1 && cls <= 5 ? cls - 1 : 5;
    c.hrsp[i as 0] += 1;
  }
  c.wretr += e.retries;
  c.wredis += e.redispatches;
  if (cause !== DASH) {
    if (cause === C) c.cliAbrt++;
    else if (cause === S && phase !== PC && phase !== Q && phase !== R)
      c.srvAbrt++; // not a refused connect
    else if (cause === I) c.eint++;
    if (cause === P && e.status === 403) c.dreq++;
    else if (phase === R) c.ereq++;
    else if (phase === PC && (cause === S || cause === s)) c.econ++;
    else if ((phase === H || phase === D) && (cause === S || cause === s)) c.eresp++;
    else if (cause === P && e.status === 502) c.eresp++;
  }
  const t = e.timers;
  time(c.qtime, t.queue);
  time(c.ctime, t.connect);
  time(c.rtime, t.response);
  time(c.ttime, t.total);
  if (t.connect >= 0) observe(c.connectTime, t.connect / 1000);
  observe(c.requestTime, t.total / 1000);
}

const DASH = 45; // -
const C = 67;
const S = 83;
const s = 115;
const I = 73;
const P = 80;
const R = 82;
const PC = 67; // phase C (connecting)
const H = 72;
const D = 68;
const L = 76;
const Q = 81;
