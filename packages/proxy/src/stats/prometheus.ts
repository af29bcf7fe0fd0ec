/**
 * Prometheus exposition format (text 0.0.4), pure: HAProxy's own exporter names and labels (`haproxy_frontend_…`
 * with `proxy`, `haproxy_backend_…` with `proxy`, `haproxy_server_…` with `proxy` and `server`), so dashboards
 * and alerts written for HAProxy's promex read lbkit unchanged; plus request and connect time histograms per
 * backend and server, which HAProxy does not have (`haproxy_backend_request_duration_seconds`, …).
 */
import { HISTOGRAM_BOUNDS, type Histogram, type Traffic } from "./counters.js";
import type { StatsSnapshot } from "./snapshot.js";

type Kind = "gauge" | "counter" | "histogram";

class Out {
  private readonly families = new Map<string, { help: string; kind: Kind; lines: string[] }>();

  add(name: string, kind: Kind, help: string, labels: string, value: number): void {
    this.family(name, kind, help).lines.push(`${name}{${labels}} ${num(value)}`);
  }

  histogram(name: string, help: string, labels: string, h: Histogram): void {
    const f = this.family(name, "histogram", help);
    let cum = 0;
    HISTOGRAM_BOUNDS.forEach((b, i) => {
      cum += h.counts[i] as number;
      f.lines.push(`${name}_bucket{${labels},le="${b}"} ${cum}`);
    });
    f.lines.push(`${name}_bucket{${labels},le="+Inf"} ${h.count}`);
    f.lines.push(`${name}_sum{${labels}} ${num(h.sum)}`);
    f.lines.push(`${name}_count{${labels}} ${h.count}`);
  }

  private family(name: string, kind: Kind, help: string) {
    let f = this.families.get(name);
    if (!f) {
      f = { help, kind, lines: [] };
      this.families.set(name, f);
    }
    return f;
  }

  text(): string {
    let out = "";
    for (const [name, f] of this.families)
      out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.kind}\n${f.lines.join("\n")}\n`;
    return out;
  }
}

function num(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : "NaN";
}

/** A label value escaped as the exposition format requires (backslash, double quote, newline). */
export function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

const CODES = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
const SERVER_STATES = ["UP", "DOWN", "DRAIN", "MAINT", "no check"];

function traffic(
  o: Out,
  scope: "frontend" | "backend" | "server",
  labels: string,
  t: Traffic,
  http: boolean,
) {
  const p = `haproxy_${scope}_`;
  o.add(
    `${p}bytes_in_total`,
    "counter",
    "Total number of request bytes since process started.",
    labels,
    t.bin,
  );
  o.add(
    `${p}bytes_out_total`,
    "counter",
    "Total number of response bytes since process started.",
    labels,
    t.bout,
  );
  if (scope === "frontend") {
    o.add(`${p}requests_denied_total`, "counter", "Total number of denied requests.", labels, t.dreq);
    o.add(`${p}request_errors_total`, "counter", "Total number of invalid requests.", labels, t.ereq);
  } else {
    o.add(`${p}connection_errors_total`, "counter", "Total number of connection errors.", labels, t.econ);
    o.add(`${p}response_errors_total`, "counter", "Total number of response errors.", labels, t.eresp);
    o.add(`${p}retry_warnings_total`, "counter", "Total number of retry warnings.", labels, t.wretr);
    o.add(
      `${p}redispatch_warnings_total`,
      "counter",
      "Total number of redispatch warnings.",
      labels,
      t.wredis,
    );
    o.add(
      `${p}client_aborts_total`,
      "counter",
      "Total number of data transfers aborted by the client.",
      labels,
      t.cliAbrt,
    );
    o.add(
      `${p}server_aborts_total`,
      "counter",
      "Total number of data transfers aborted by the server.",
      labels,
      t.srvAbrt,
    );
    o.add(
      `${p}queue_time_average_seconds`,
      "gauge",
      "Avg. queue time for last 1024 successful connections.",
      labels,
      t.qtime.avg / 1000,
    );
    o.add(
      `${p}connect_time_average_seconds`,
      "gauge",
      "Avg. connect time for last 1024 successful connections.",
      labels,
      t.ctime.avg / 1000,
    );
    o.add(
      `${p}response_time_average_seconds`,
      "gauge",
      "Avg. response time for last 1024 successful connections.",
      labels,
      t.rtime.avg / 1000,
    );
    o.add(
      `${p}total_time_average_seconds`,
      "gauge",
      "Avg. total time for last 1024 successful connections.",
      labels,
      t.ttime.avg / 1000,
    );
    o.add(
      `${p}max_connect_time_seconds`,
      "gauge",
      "Maximum observed time spent waiting for a connection to complete.",
      labels,
      t.ctime.max / 1000,
    );
    o.add(
      `${p}max_response_time_seconds`,
      "gauge",
      "Maximum observed time spent waiting for a server response.",
      labels,
      t.rtime.max / 1000,
    );
    o.add(
      `${p}max_total_time_seconds`,
      "gauge",
      "Maximum observed total request+response time.",
      labels,
      t.ttime.max / 1000,
    );
    o.histogram(
      `${p}request_duration_seconds`,
      "Time from the first request byte to the end of the transaction (lbkit).",
      labels,
      t.requestTime,
    );
    o.histogram(
      `${p}connect_duration_seconds`,
      "Time to connect to the server (lbkit).",
      labels,
      t.connectTime,
    );
  }
  o.add(`${p}internal_errors_total`, "counter", "Total number of internal errors.", labels, t.eint);
  if (http) {
    o.add(`${p}http_requests_total`, "counter", "Total number of HTTP requests received.", labels, t.reqTot);
    CODES.forEach((c, i) => {
      o.add(
        `${p}http_responses_total`,
        "counter",
        "Total number of HTTP responses.",
        `${labels},code="${c}"`,
        t.hrsp[i] as number,
      );
    });
  }
}

/** The `/metrics` document. */
export function renderPrometheus(snap: StatsSnapshot): string {
  const o = new Out();
  for (const f of snap.frontends) {
    const l = `proxy="${labelValue(f.id)}"`;
    o.add("haproxy_frontend_status", "gauge", "Current status of the service.", l, 1);
    o.add("haproxy_frontend_current_sessions", "gauge", "Number of current sessions.", l, f.scur);
    o.add("haproxy_frontend_max_sessions", "gauge", "Maximum observed number of active sessions.", l, f.smax);
    o.add("haproxy_frontend_limit_sessions", "gauge", "Configured session limit.", l, f.slim);
    o.add("haproxy_frontend_sessions_total", "counter", "Total number of sessions.", l, f.connTot);
    o.add("haproxy_frontend_connections_total", "counter", "Total number of connections.", l, f.connTot);
    traffic(o, "frontend", l, f.traffic, f.mode === "http");
  }
  for (const b of snap.backends) {
    const l = `proxy="${labelValue(b.id)}"`;
    o.add("haproxy_backend_status", "gauge", "Current status of the service.", l, b.status === "UP" ? 1 : 0);
    o.add("haproxy_backend_current_queue", "gauge", "Number of current queued connections.", l, b.qcur);
    o.add("haproxy_backend_max_queue", "gauge", "Maximum observed number of queued connections.", l, b.qmax);
    o.add("haproxy_backend_current_sessions", "gauge", "Number of current sessions.", l, b.scur);
    o.add("haproxy_backend_max_sessions", "gauge", "Maximum observed number of active sessions.", l, b.smax);
    o.add("haproxy_backend_sessions_total", "counter", "Total number of sessions.", l, b.traffic.stot);
    o.add("haproxy_backend_weight", "gauge", "Service weight.", l, b.weight);
    o.add("haproxy_backend_active_servers", "gauge", "Current number of active servers.", l, b.act);
    o.add("haproxy_backend_backup_servers", "gauge", "Current number of backup servers.", l, b.bck);
    o.add(
      "haproxy_backend_check_up_down_total",
      "counter",
      "Total number of UP->DOWN transitions.",
      l,
      b.chkdown,
    );
    o.add(
      "haproxy_backend_downtime_seconds_total",
      "counter",
      "Total downtime (in seconds) for the service.",
      l,
      b.downtime,
    );
    o.add(
      "haproxy_backend_last_session_seconds",
      "gauge",
      "Number of seconds since last session assigned to server/backend.",
      l,
      b.lastsess,
    );
    traffic(o, "backend", l, b.traffic, b.mode === "http");
    for (const s of b.servers) {
      const sl = `proxy="${labelValue(b.id)}",server="${labelValue(s.id)}"`;
      for (const st of SERVER_STATES)
        o.add(
          "haproxy_server_status",
          "gauge",
          "Current status of the service, per state label value.",
          `${sl},state="${st}"`,
          s.status === st ? 1 : 0,
        );
      o.add("haproxy_server_current_queue", "gauge", "Number of current queued connections.", sl, s.qcur);
      o.add(
        "haproxy_server_max_queue",
        "gauge",
        "Maximum observed number of queued connections.",
        sl,
        s.qmax,
      );
      o.add("haproxy_server_current_sessions", "gauge", "Number of current sessions.", sl, s.scur);
      o.add(
        "haproxy_server_max_sessions",
        "gauge",
        "Maximum observed number of active sessions.",
        sl,
        s.smax,
      );
      o.add("haproxy_server_limit_sessions", "gauge", "Configured session limit.", sl, s.slim);
      o.add("haproxy_server_sessions_total", "counter", "Total number of sessions.", sl, s.traffic.stot);
      o.add("haproxy_server_weight", "gauge", "Service weight.", sl, s.weight);
      o.add(
        "haproxy_server_check_failures_total",
        "counter",
        "Total number of failed checks.",
        sl,
        s.chkfail,
      );
      o.add(
        "haproxy_server_check_up_down_total",
        "counter",
        "Total number of UP->DOWN transitions.",
        sl,
        s.chkdown,
      );
      o.add(
        "haproxy_server_downtime_seconds_total",
        "counter",
        "Total downtime (in seconds) for the service.",
        sl,
        s.downtime,
      );
      o.add(
        "haproxy_server_check_last_change_seconds",
        "gauge",
        "Number of seconds since the last UP<->DOWN transition.",
        sl,
        s.lastchg,
      );
      o.add(
        "haproxy_server_last_session_seconds",
        "gauge",
        "Number of seconds since last session assigned to server/backend.",
        sl,
        s.lastsess,
      );
      o.add(
        "haproxy_server_loadbalanced_total",
        "counter",
        "Total number of times a service was selected.",
        sl,
        s.lbtot,
      );
      if (s.check) {
        o.add(
          "haproxy_server_check_code",
          "gauge",
          "layer5-7 code, if available of the last health check.",
          sl,
          s.check.code ?? 0,
        );
        o.add(
          "haproxy_server_check_duration_seconds",
          "gauge",
          "Total duration of the latest server health check, in seconds.",
          sl,
          s.check.duration / 1000,
        );
      }
      traffic(o, "server", sl, s.traffic, b.mode === "http");
    }
  }
  return o.text();
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
