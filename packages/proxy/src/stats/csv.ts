/**
 * HAProxy-compatible CSV (`show stat`, the stats page's `;csv`), pure: the exact HAProxy 2.6 header (the 103
 * general columns of doc/management.txt §9.1, then `-` and the ssl/h2/h1 module columns, which lbkit leaves
 * empty) and one line per frontend, server and backend, each field followed by a comma as HAProxy writes them.
 */
import type { Traffic } from "./counters.js";
import type { BackendRow, FrontendRow, ServerRow, StatsSnapshot } from "./snapshot.js";

export const CSV_COLUMNS: readonly string[] = [
  "pxname",
  "svname",
  "qcur",
  "qmax",
  "scur",
  "smax",
  "slim",
  "stot",
  "bin",
  "bout",
  "dreq",
  "dresp",
  "ereq",
  "econ",
  "eresp",
  "wretr",
  "wredis",
  "status",
  "weight",
  "act",
  "bck",
  "chkfail",
  "chkdown",
  "lastchg",
  "downtime",
  "qlimit",
  "pid",
  "iid",
  "sid",
  "throttle",
  "lbtot",
  "tracked",
  "type",
  "rate",
  "rate_lim",
  "rate_max",
  "check_status",
  "check_code",
  "check_duration",
  "hrsp_1xx",
  "hrsp_2xx",
  "hrsp_3xx",
  "hrsp_4xx",
  "hrsp_5xx",
  "hrsp_other",
  "hanafail",
  "req_rate",
  "req_rate_max",
  "req_tot",
  "cli_abrt",
  "srv_abrt",
  "comp_in",
  "comp_out",
  "comp_byp",
  "comp_rsp",
  "lastsess",
  "last_chk",
  "last_agt",
  "qtime",
  "ctime",
  "rtime",
  "ttime",
  "agent_status",
  "agent_code",
  "agent_duration",
  "check_desc",
  "agent_desc",
  "check_rise",
  "check_fall",
  "check_health",
  "agent_rise",
  "agent_fall",
  "agent_health",
  "addr",
  "cookie",
  "mode",
  "algo",
  "conn_rate",
  "conn_rate_max",
  "conn_tot",
  "intercepted",
  "dcon",
  "dses",
  "wrew",
  "connect",
  "reuse",
  "cache_lookups",
  "cache_hits",
  "srv_icur",
  "src_ilim",
  "qtime_max",
  "ctime_max",
  "rtime_max",
  "ttime_max",
  "eint",
  "idle_conn_cur",
  "safe_conn_cur",
  "used_conn_cur",
  "need_conn_est",
  "uweight",
  "agg_server_status",
  "agg_server_check_status",
  "agg_check_status",
  "-",
  "ssl_sess",
  "ssl_reused_sess",
  "ssl_failed_handshake",
  "h2_headers_rcvd",
  "h2_data_rcvd",
  "h2_settings_rcvd",
  "h2_rst_stream_rcvd",
  "h2_goaway_rcvd",
  "h2_detected_conn_protocol_errors",
  "h2_detected_strm_protocol_errors",
  "h2_rst_stream_resp",
  "h2_goaway_resp",
  "h2_open_connections",
  "h2_backend_open_streams",
  "h2_total_connections",
  "h2_backend_total_streams",
  "h1_open_connections",
  "h1_open_streams",
  "h1_total_connections",
  "h1_total_streams",
  "h1_bytes_in",
  "h1_bytes_out",
  "h1_spliced_bytes_in",
  "h1_spliced_bytes_out",
];

type Row = Record<string, string | number | undefined>;

const NEVER = -1;

function responses(t: Traffic): Row {
  return {
    hrsp_1xx: t.hrsp[0],
    hrsp_2xx: t.hrsp[1],
    hrsp_3xx: t.hrsp[2],
    hrsp_4xx: t.hrsp[3],
    hrsp_5xx: t.hrsp[4],
    hrsp_other: t.hrsp[5],
    req_tot: t.reqTot,
  };
}

function traffic(t: Traffic, http: boolean): Row {
  return {
    stot: t.stot,
    bin: t.bin,
    bout: t.bout,
    wretr: t.wretr,
    wredis: t.wredis,
    eresp: t.eresp,
    econ: t.econ,
    cli_abrt: t.cliAbrt,
    srv_abrt: t.srvAbrt,
    rate_max: t.rate.max,
    ...(http ? responses(t) : {}),
    qtime: Math.round(t.qtime.avg),
    ctime: Math.round(t.ctime.avg),
    rtime: Math.round(t.rtime.avg),
    ttime: Math.round(t.ttime.avg),
    qtime_max: t.qtime.max,
    ctime_max: t.ctime.max,
    rtime_max: t.rtime.max,
    ttime_max: t.ttime.max,
    eint: t.eint,
  };
}

function frontendRow(f: FrontendRow, iid: number, pid: number): Row {
  const t = f.traffic;
  const http = f.mode === "http";
  return {
    pxname: f.id,
    svname: "FRONTEND",
    scur: f.scur,
    smax: f.smax,
    slim: f.slim || "",
    stot: f.connTot,
    bin: t.bin,
    bout: t.bout,
    dreq: t.dreq,
    dresp: t.dresp,
    ereq: t.ereq,
    status: f.status,
    pid,
    iid,
    sid: 0,
    type: 0,
    rate: f.rate,
    rate_max: t.rate.max,
    ...(http ? { ...responses(t), req_rate: f.rate, req_rate_max: t.rate.max } : {}),
    mode: f.mode,
    conn_tot: f.connTot,
    eint: t.eint,
  };
}

function serverRow(s: ServerRow, http: boolean, iid: number, sid: number, pid: number): Row {
  return {
    ...traffic(s.traffic, http),
    pxname: s.backend,
    svname: s.id,
    qcur: s.qcur,
    qmax: s.qmax,
    qlimit: s.qlimit || "",
    scur: s.scur,
    smax: s.smax,
    slim: s.slim || "",
    status: s.transition ? `${s.status} ${s.transition}` : s.status,
    weight: s.weight,
    act: s.backup ? 0 : 1,
    bck: s.backup ? 1 : 0,
    chkfail: s.chkfail,
    chkdown: s.chkdown,
    lastchg: s.lastchg,
    downtime: s.downtime,
    pid,
    iid,
    sid,
    lbtot: s.lbtot,
    type: 2,
    rate: s.rate,
    check_status: s.check?.status,
    check_code: s.check?.code,
    check_duration: s.check?.duration,
    lastsess: s.lastsess,
    last_chk: s.check?.desc,
    check_desc: s.check?.desc,
    check_rise: s.check ? s.rise : undefined,
    check_fall: s.check ? s.fall : undefined,
    check_health: s.check ? s.health : undefined,
    addr: s.addr,
    mode: http ? "http" : "tcp",
    uweight: s.uweight,
  };
}

function backendRow(b: BackendRow, iid: number, pid: number): Row {
  const http = b.mode === "http";
  return {
    ...traffic(b.traffic, http),
    pxname: b.id,
    svname: "BACKEND",
    qcur: b.qcur,
    qmax: b.qmax,
    scur: b.scur,
    smax: b.smax,
    slim: "",
    dreq: b.traffic.dreq,
    dresp: b.traffic.dresp,
    status: b.status,
    weight: b.weight,
    act: b.act,
    bck: b.bck,
    chkdown: b.chkdown,
    lastchg: b.lastchg,
    downtime: b.downtime,
    qlimit: b.qlimit || "",
    pid,
    iid,
    sid: 0,
    lbtot: b.servers.reduce((n, s) => n + s.lbtot, 0),
    type: 1,
    rate: b.rate,
    lastsess: b.lastsess === NEVER ? -1 : b.lastsess,
    mode: b.mode,
    algo: b.algo,
    uweight: b.servers.reduce((n, s) => n + s.uweight, 0),
  };
}

function cell(v: string | number | undefined): string {
  if (v === undefined) return "";
  const s = String(v);
  // HAProxy replaces separators in free text; do the same so a check description cannot break a line
  return s.replace(/[,\r\n]/g, " ");
}

function line(r: Row): string {
  let out = "";
  for (const c of CSV_COLUMNS) out += `${cell(r[c])},`;
  return out;
}

/** The whole CSV document, header first, as HAProxy 2.6 writes it (frontends, then each backend's servers and BACKEND). */
export function renderCsv(snap: StatsSnapshot): string {
  const lines = [`# ${CSV_COLUMNS.join(",")},`];
  let iid = 0;
  for (const f of snap.frontends) lines.push(line(frontendRow(f, ++iid, snap.pid)));
  for (const b of snap.backends) {
    const id = ++iid;
    const http = b.mode === "http";
    b.servers.forEach((s, i) => {
      lines.push(line(serverRow(s, http, id, i + 1, snap.pid)));
    });
    lines.push(line(backendRow(b, id, snap.pid)));
  }
  return `${lines.join("\n")}\n`;
}
