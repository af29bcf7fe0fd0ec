/**
 * Access log lines (pure): HAProxy's `httplog` and `tcplog` text formats and a structured JSON record with the
 * same fields, from one finished transaction (the proxy's `request`/`session` event).
 *
 *   httplog: client:port [accept date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes - - tsc-- \
 *            actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue "METHOD path HTTP/1.1"
 *   tcplog:  client:port [accept date] frontend backend/server Tw/Tc/Tt bytes tsc actconn/…/retries sq/bq
 *
 * actconn/feconn/beconn/srv_conn are read when the transaction ends (the AccessLog passes them; 0 otherwise);
 * srv_queue / backend_queue: the requests ahead when this one joined its server's queue / the backend queue.
 */
import type { TransactionLog } from "../shell.js";

/** HAProxy's timers in ms, -1 for a stage never reached. */
export interface LogTimers {
  TR: number;
  Tw: number;
  Tc: number;
  Tr: number;
  Ta: number;
}

export interface AccessRecord {
  type: "http" | "tcp";
  /** ISO-8601 accept time. */
  time: string;
  client: string;
  client_port: number;
  frontend: string;
  backend: string | null;
  server: string | null;
  timers: LogTimers;
  status: number | null;
  /** Bytes sent to the client (HAProxy bytes_read), and received from it. */
  bytes_read: number;
  bytes_uploaded: number;
  termination: string;
  retries: number;
  redispatches: number;
  /** Requests ahead in the backend queue when this one was queued, -1 if it never was. */
  backend_queue: number;
  /** Requests ahead in its server's own queue when it joined it (only when it waited there). */
  srv_queue?: number;
  method?: string;
  path?: string;
  captured?: { request: string[]; response: string[] };
  /** HAProxy's actconn/feconn/beconn/srv_conn when the transaction ended. */
  conns?: { act: number; fe: number; be: number; srv: number };
}

export function timersOf(e: TransactionLog): LogTimers {
  const t = e.timers;
  const r = (ms: number) => (ms < 0 ? -1 : Math.round(ms));
  return { TR: r(t.request), Tw: r(t.queue), Tc: r(t.connect), Tr: r(t.response), Ta: r(t.total) };
}

function acceptAt(e: TransactionLog): number {
  return e.at;
}

export function accessRecord(
  kind: "request" | "session",
  e: TransactionLog,
  conns?: readonly number[],
): AccessRecord {
  const r: AccessRecord = {
    type: kind === "request" ? "http" : "tcp",
    time: isoTime(acceptAt(e)),
    client: e.client,
    client_port: e.clientPort,
    frontend: e.frontend,
    backend: e.backend ?? null,
    server: e.server ?? null,
    timers: timersOf(e),
    status: e.status ?? null,
    bytes_read: e.bytesOut,
    bytes_uploaded: e.bytesIn,
    termination: e.termination,
    retries: e.retries,
    redispatches: e.redispatches,
    backend_queue: e.serverQueued ? -1 : e.queuePos,
  };
  if (e.serverQueued) r.srv_queue = e.queuePos;
  if (e.method !== undefined) r.method = e.method;
  if (e.path !== undefined) r.path = e.path;
  if (e.captured !== undefined) r.captured = e.captured;
  if (conns) r.conns = { act: conns[0] ?? 0, fe: conns[1] ?? 0, be: conns[2] ?? 0, srv: conns[3] ?? 0 };
  return r;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** HAProxy's accept date, `06/Feb/2009:12:14:14.655`, in UTC. */
export function haproxyDate(ms: number): string {
  const d = new Date(ms);
  const msec = d.getUTCMilliseconds();
  return (
    `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${msec < 10 ? "00" : msec < 100 ? "0" : ""}${msec}`
  );
}

function clientAddr(e: TransactionLog): string {
  const port = e.clientPort;
  return e.client.includes(":") && !e.client.startsWith("::ffff:")
    ? `[${e.client}]:${port}`
    : `${e.client.replace(/^::ffff:/, "")}:${port}`;
}

function route(e: TransactionLog): string {
  return `${e.backend ?? e.frontend}/${e.server ?? "<NOSRV>"}`;
}

/** HAProxy's captured-header blocks: `{v1|v2} {r1} ` (request, then response), only for sides that capture. */
function captures(e: TransactionLog): string {
  const c = e.captured;
  if (!c) return "";
  const block = (vs: string[]) => `{${vs.map((v) => v.replace(/[|{}"\\]/g, (x) => `\\${x}`)).join("|")}} `;
  return (c.request.length > 0 ? block(c.request) : "") + (c.response.length > 0 ? block(c.response) : "");
}

const NO_CONNS: readonly number[] = [0, 0, 0, 0];

/** HAProxy prints `+n` when the last attempt was redispatched to another server. */
function retries(e: TransactionLog): string {
  return e.redispatches > 0 ? `+${e.retries}` : String(e.retries);
}

/** One HAProxy `option httplog` line (without the syslog prefix); `conns`: actconn, feconn, beconn, srv_conn. */
export function httplog(e: TransactionLog, conns: readonly number[] = NO_CONNS): string {
  const t = timersOf(e);
  const reqLine = e.method !== undefined ? `${e.method} ${e.path ?? ""} HTTP/1.1` : "<BADREQ>";
  return (
    `${clientAddr(e)} [${haproxyDate(acceptAt(e))}] ${e.frontend} ${route(e)} ` +
    `${t.TR}/${t.Tw}/${t.Tc}/${t.Tr}/${t.Ta} ${e.status ?? -1} ${e.bytesOut} - - ${e.termination}-- ` +
    `${conns.join("/")}/${retries(e)} ${queues(e)} ${captures(e)}"${reqLine.replace(/["\\]/g, (c) => `\\${c}`)}"`
  );
}

/** HAProxy's `srv_queue/backend_queue`: requests ahead in the queue this one joined, 0 in the other. */
function queues(e: TransactionLog): string {
  const pos = Math.max(0, e.queuePos);
  return e.serverQueued ? `${pos}/0` : `0/${pos}`;
}

/** One HAProxy `option tcplog` line (without the syslog prefix). */
export function tcplog(e: TransactionLog, conns: readonly number[] = NO_CONNS): string {
  const t = timersOf(e);
  return (
    `${clientAddr(e)} [${haproxyDate(acceptAt(e))}] ${e.frontend} ${route(e)} ` +
    `${t.Tw}/${t.Tc}/${t.Ta} ${e.bytesOut} ${e.termination} ${conns.join("/")}/${retries(e)} ${queues(e)}`
  );
}

let isoSec = -1;
let isoPrefix = "";
/** ISO-8601 UTC with ms, the seconds part cached (one Date per second of log time, not per line). */
export function isoTime(ms: number): string {
  const whole = Math.floor(ms);
  const sec = Math.floor(whole / 1000);
  if (sec !== isoSec) {
    isoSec = sec;
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, 19);
  }
  const m = whole - sec * 1000;
  return `${isoPrefix}.${m < 10 ? "00" : m < 100 ? "0" : ""}${m}Z`;
}

const str = (s: string | undefined) => (s === undefined ? "null" : JSON.stringify(s));

/** `JSON.stringify(accessRecord(kind, e))`, built directly (the access log's per-line cost). */
export function accessJson(
  kind: "request" | "session",
  e: TransactionLog,
  conns?: readonly number[],
): string {
  const t = timersOf(e);
  return (
    `{"type":"${kind === "request" ? "http" : "tcp"}","time":"${isoTime(acceptAt(e))}","client":${str(e.client)},` +
    `"client_port":${e.clientPort},` +
    `"frontend":${str(e.frontend)},"backend":${str(e.backend)},"server":${str(e.server)},` +
    `"timers":{"TR":${t.TR},"Tw":${t.Tw},"Tc":${t.Tc},"Tr":${t.Tr},"Ta":${t.Ta}},"status":${e.status ?? "null"},` +
    `"bytes_read":${e.bytesOut},"bytes_uploaded":${e.bytesIn},"termination":${str(e.termination)},"retries":${e.retries},` +
    `"redispatches":${e.redispatches},"backend_queue":${e.serverQueued ? -1 : e.queuePos}` +
    `${e.serverQueued ? `,"srv_queue":${e.queuePos}` : ""}` +
    `${e.method !== undefined ? `,"method":${str(e.method)}` : ""}${e.path !== undefined ? `,"path":${str(e.path)}` : ""}` +
    `${e.captured !== undefined ? `,"captured":${JSON.stringify(e.captured)}` : ""}` +
    `${conns ? `,"conns":{"act":${conns[0]},"fe":${conns[1]},"be":${conns[2]},"srv":${conns[3]}}` : ""}}`
  );
}
