import { describe, expect, it } from "vitest";
import type { TransactionLog } from "../shell.js";
import { newTraffic, record } from "./counters.js";
import { CSV_COLUMNS, renderCsv } from "./csv.js";
import { escapeHtml, renderHtml } from "./html.js";
import { labelValue, renderPrometheus } from "./prometheus.js";
import { renderJson, type StatsSnapshot } from "./snapshot.js";
import { transition } from "./stats.js";

function snapshot(): StatsSnapshot {
  const t = newTraffic();
  const txn = {
    frontend: "fe",
    backend: "be",
    server: "a",
    client: "127.0.0.1",
    status: 200,
    termination: "--",
    retries: 1,
    redispatches: 0,
    queuePos: -1,
    duration: 5,
    bytesIn: 10,
    bytesOut: 20,
    timers: { request: 0, queue: 0, connect: 1, response: 3, total: 5 },
  } as TransactionLog;
  record(t, txn, 1000);
  record(t, { ...txn, status: 503, termination: "SC" }, 1001);
  return {
    at: Date.UTC(2026, 0, 1),
    uptime: 61,
    pid: 42,
    frontends: [
      { id: "fe", mode: "http", status: "OPEN", scur: 1, smax: 3, slim: 0, connTot: 7, rate: 2, traffic: t },
    ],
    backends: [
      {
        id: "be",
        mode: "http",
        algo: "roundrobin",
        status: "UP",
        lastchg: 10,
        downtime: 0,
        weight: 1,
        act: 1,
        bck: 0,
        scur: 0,
        smax: 2,
        qcur: 0,
        qmax: 1,
        qlimit: 0,
        chkdown: 0,
        rate: 2,
        lastsess: 0,
        traffic: t,
        servers: [
          {
            backend: "be",
            id: "a",
            addr: "127.0.0.1:8080",
            status: "UP",
            transition: "1/3",
            lastchg: 10,
            downtime: 3,
            weight: 1,
            uweight: 1,
            backup: false,
            scur: 0,
            smax: 2,
            slim: 10,
            qcur: 2,
            qmax: 3,
            qlimit: 4,
            lbtot: 2,
            chkfail: 1,
            chkdown: 1,
            check: { status: "L7OK", code: 200, duration: 2, desc: "HTTP status 200, ok", ago: 1 },
            rise: 2,
            fall: 3,
            health: 2,
            rate: 2,
            lastsess: 0,
            traffic: t,
          },
          {
            backend: "be",
            id: "<b>",
            addr: "127.0.0.1:8081",
            status: "DOWN",
            transition: undefined,
            lastchg: 5,
            downtime: 5,
            weight: 1,
            uweight: 1,
            backup: true,
            scur: 0,
            smax: 0,
            slim: 0,
            qcur: 0,
            qmax: 0,
            qlimit: 0,
            lbtot: 0,
            chkfail: 3,
            chkdown: 1,
            check: undefined,
            rise: 2,
            fall: 3,
            health: 0,
            rate: 0,
            lastsess: -1,
            traffic: newTraffic(),
          },
        ],
      },
    ],
  };
}

function parseCsv(text: string): Record<string, string>[] {
  const lines = text.trimEnd().split("\n");
  const header = (lines[0] as string).replace(/^# /, "").split(",");
  return lines.slice(1).map((l) => Object.fromEntries(header.map((h, i) => [h, l.split(",")[i] ?? ""])));
}

describe("stats renderings", () => {
  it("CSV: HAProxy 2.6's columns, frontend then servers then BACKEND, a field per column", () => {
    const csv = renderCsv(snapshot());
    const lines = csv.trimEnd().split("\n");
    expect(lines[0]).toBe(`# ${CSV_COLUMNS.join(",")},`);
    expect(CSV_COLUMNS.slice(0, 8)).toEqual([
      "pxname",
      "svname",
      "qcur",
      "qmax",
      "scur",
      "smax",
      "slim",
      "stot",
    ]);
    expect(CSV_COLUMNS.indexOf("agg_check_status")).toBe(102);
    for (const l of lines) expect(l.split(",").length).toBe(CSV_COLUMNS.length + 1);
    const rows = parseCsv(csv);
    expect(rows.map((r) => `${r.pxname}/${r.svname}`)).toEqual([
      "fe/FRONTEND",
      "be/a",
      "be/<b>",
      "be/BACKEND",
    ]);
    const [fe, a, b, be] = rows as Record<string, string>[];
    expect(fe).toMatchObject({
      status: "OPEN",
      scur: "1",
      smax: "3",
      stot: "7",
      type: "0",
      hrsp_2xx: "1",
      hrsp_5xx: "1",
      req_tot: "2",
    });
    expect(a).toMatchObject({
      status: "UP 1/3", // HAProxy's "going down" counter
      weight: "1",
      act: "1",
      bck: "0",
      slim: "10",
      qcur: "2", // the server's own queue (srv_queue)
      qmax: "3",
      qlimit: "4",
      check_status: "L7OK",
      check_code: "200",
      check_duration: "2",
      type: "2",
      wretr: "2",
      econ: "1",
      addr: "127.0.0.1:8080",
      chkfail: "1",
      downtime: "3",
    });
    expect(a?.check_desc).toBe("HTTP status 200  ok"); // the comma cannot break the line
    expect(b).toMatchObject({ status: "DOWN", act: "0", bck: "1", check_status: "" });
    expect(be).toMatchObject({ status: "UP", type: "1", algo: "roundrobin", qmax: "1", mode: "http" });
  });

  it("Prometheus: HAProxy exporter names and labels, histograms with cumulative buckets", () => {
    const text = renderPrometheus(snapshot());
    expect(text).toContain('haproxy_frontend_http_responses_total{proxy="fe",code="2xx"} 1');
    expect(text).toContain('haproxy_backend_connection_errors_total{proxy="be"} 1');
    expect(text).toContain('haproxy_server_status{proxy="be",server="a",state="UP"} 1');
    expect(text).toContain('haproxy_server_status{proxy="be",server="<b>",state="DOWN"} 1');
    expect(text).toContain('haproxy_server_check_code{proxy="be",server="a"} 200');
    expect(text).toContain('haproxy_server_current_queue{proxy="be",server="a"} 2');
    expect(text).toContain('haproxy_server_max_queue{proxy="be",server="a"} 3');
    expect(text).toContain('haproxy_backend_request_duration_seconds_bucket{proxy="be",le="0.005"} 2');
    expect(text).toContain('haproxy_backend_request_duration_seconds_bucket{proxy="be",le="0.0025"} 0');
    expect(text).toContain('haproxy_backend_request_duration_seconds_count{proxy="be"} 2');
    expect(text).toContain('haproxy_backend_connect_duration_seconds_bucket{proxy="be",le="0.001"} 2');
    // every family declared once, every sample line well-formed
    const types = text.split("\n").filter((l) => l.startsWith("# TYPE "));
    expect(new Set(types).size).toBe(types.length);
    for (const l of text.trimEnd().split("\n"))
      if (!l.startsWith("#"))
        expect(l).toMatch(/^[a-z_]+\{([a-z_]+="([^"\\]|\\.)*",?)+\} -?[0-9.e+-]+$|NaN$/);
    expect(labelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it("HTML: self-contained, refreshing, state classes, names escaped", () => {
    const html = renderHtml(snapshot(), { refresh: 3, csvHref: "/s;csv" });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<meta http-equiv="refresh" content="3">');
    expect(html).toContain('name="viewport"');
    expect(html).not.toMatch(/<script|<link|src=|url\(/);
    expect(html).toContain(
      'class="goingdown" data-server="be/a" data-status="UP"><td class="n">a</td><td>UP 1/3</td>',
    );
    expect(html).toContain('class="down" data-server="be/&lt;b&gt;" data-status="DOWN"');
    expect(html).not.toContain("<b>");
    expect(html).toContain("L7OK 200 in 2ms");
    expect(html).toContain("<td>0/2/10</td><td>2/3</td>"); // sessions cur/max/limit, then the server queue cur/max
    expect(escapeHtml(`<&>"'`)).toBe("&lt;&amp;&gt;&quot;&#39;");
    expect(renderHtml(snapshot(), { refresh: 0 })).not.toContain("http-equiv");
  });

  it("transition counters follow HAProxy's stats page: UP (health-rise+1)/fall, DOWN health/rise", () => {
    // rise 2, fall 3: health 0..4, up at >= 2
    expect(transition("up", 4, 2, 3)).toBeUndefined();
    expect(transition("up", 3, 2, 3)).toBe("2/3");
    expect(transition("up", 2, 2, 3)).toBe("1/3"); // one more failure and it is DOWN
    expect(transition("down", 0, 2, 3)).toBeUndefined();
    expect(transition("down", 1, 2, 3)).toBe("1/2");
    expect(transition("maint", 1, 2, 3)).toBeUndefined();
    expect(transition("up", undefined, 2, 3)).toBeUndefined();
  });

  it("JSON round-trips the snapshot", () => {
    const s = snapshot();
    expect(JSON.parse(renderJson(s))).toEqual(JSON.parse(JSON.stringify(s)));
  });
});
