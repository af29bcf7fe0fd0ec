// Unit tests of the proxy bench's pure parts (bench/proxy): round scheduling, wrk output parsing, /proc parsing,
// same-round ratios and table rendering, peer configuration text.
import { describe, expect, it } from "vitest";
import { haproxyConfig, nginxOriginConfig, nginxProxyConfig } from "../../bench/proxy/configs";
import { h2loadArgs, parseH2load } from "../../bench/proxy/h2load";
import { descendants, parseStat } from "../../bench/proxy/procstat";
import {
  cpuVerdict,
  median,
  originVerdict,
  renderAfterIdle,
  renderChurnTable,
  renderFirstContact,
  renderMemoryTable,
  renderThroughputTable,
  type Sample,
  sameRoundRatio,
} from "../../bench/proxy/report";
import { roundOrders } from "../../bench/proxy/schedule";
import { parseWrk, wrkArgs } from "../../bench/proxy/wrk";

describe("roundOrders", () => {
  it("runs every peer once per round, rotated by one each round", () => {
    expect(roundOrders(["a", "b", "c"], 4)).toEqual([
      ["a", "b", "c"],
      ["b", "c", "a"],
      ["c", "a", "b"],
      ["a", "b", "c"],
    ]);
  });
  it("gives each peer each position equally often over n rounds", () => {
    const peers = ["a", "b", "c", "d", "e"];
    const orders = roundOrders(peers, peers.length);
    for (const p of peers) expect(orders.map((o) => o.indexOf(p)).sort()).toEqual([0, 1, 2, 3, 4]);
  });
  it("rejects a round count that is not a positive integer", () => {
    expect(() => roundOrders(["a"], 0)).toThrow(/rounds 0/);
    expect(() => roundOrders(["a"], 1.5)).toThrow(/rounds 1.5/);
  });
});

describe("parseWrk", () => {
  const out = [
    "Running 5s test @ http://127.0.0.1:1/small",
    "  1 threads and 50 connections",
    'WRK_JSON {"requests":350000,"duration_us":5000000,"bytes":70000000,"p50_us":650,"p99_us":2100,"mean_us":700.5,"connect":0,"read":1,"write":0,"status":2,"timeout":3}',
  ].join("\n");
  it("reads counts, rates and percentiles from the Lua line", () => {
    const r = parseWrk(out);
    expect(r.rps).toBe(70_000);
    expect(r.bytesPerSec).toBe(14_000_000);
    expect(r.p50Ms).toBe(0.65);
    expect(r.p99Ms).toBe(2.1);
    expect(r.meanMs).toBeCloseTo(0.7005);
    expect(r.errors).toBe(6);
  });
  it("names the output when the line is missing or incomplete", () => {
    expect(() => parseWrk("Requests/sec: 1")).toThrow(/no WRK_JSON line.*\n.*Requests\/sec/s);
    expect(() => parseWrk('WRK_JSON {"requests":1}')).toThrow(/field duration_us missing/);
  });
  it("builds the command line", () => {
    expect(wrkArgs({ url: "http://h:1/", threads: 1, connections: 50, seconds: 5, script: "r.lua" })).toEqual(
      ["-t1", "-c50", "-d5s", "--timeout", "5s", "-s", "r.lua", "http://h:1/"],
    );
    const o = { url: "http://h:1/", threads: 1, connections: 50, seconds: 5, script: "r.lua" };
    expect(wrkArgs({ ...o, headers: ["Connection: close"] })).toEqual([
      "-t1",
      "-c50",
      "-d5s",
      "--timeout",
      "5s",
      "-H",
      "Connection: close",
      "-s",
      "r.lua",
      "http://h:1/",
    ]);
  });
});

describe("/proc parsing", () => {
  it("splits after the last ')' so a command name with spaces and parentheses parses", () => {
    const line =
      "4242 (nginx: worker (x)) S 4241 4241 4241 0 -1 4194624 100 0 0 0 250 130 0 0 20 0 1 0 123 1000000 2048 18446744073709551615";
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 4241, ticks: 380, rssPages: 2048 });
  });
  it("collects a process and all its descendants", () => {
    const p = (pid: number, ppid: number) => ({ pid, ppid, ticks: 0, rssPages: 0 });
    const all = [p(1, 0), p(10, 1), p(11, 10), p(12, 10), p(13, 11), p(20, 1)];
    expect(
      descendants(10, all)
        .map((x) => x.pid)
        .sort(),
    ).toEqual([10, 11, 12, 13]);
    expect(descendants(99, all)).toEqual([]);
  });
});

const sample = (round: number, peer: string, rps: number, p99Ms = 1): Sample => ({
  round,
  peer,
  case: "small",
  rps,
  bytesPerSec: rps * 100,
  p50Ms: 0.5,
  p99Ms,
  errors: 0,
  cpuPct: 90,
  originCpuPct: 30,
  rssBytes: 20 * 2 ** 20,
});

describe("same-round ratios", () => {
  it("divides by the baseline of the same round, never another round's", () => {
    // the machine slows down in round 1: absolute figures halve, ratios stay
    const s = [sample(0, "h", 100), sample(0, "x", 80), sample(1, "h", 50), sample(1, "x", 45)];
    const r = sameRoundRatio(s, "x", "h", "small", (v) => v.rps)!;
    expect(r.min).toBeCloseTo(0.8);
    expect(r.max).toBeCloseTo(0.9);
    expect(r.median).toBeCloseTo(0.85);
    expect(r.rounds).toBe(2);
  });
  it("skips rounds where the baseline did not run, and is undefined with none", () => {
    const s = [sample(0, "x", 80), sample(1, "h", 100), sample(1, "x", 70)];
    expect(sameRoundRatio(s, "x", "h", "small", (v) => v.rps)?.rounds).toBe(1);
    expect(sameRoundRatio([sample(0, "x", 1)], "x", "h", "small", (v) => v.rps)).toBeUndefined();
  });
  it("median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe("tables", () => {
  it("renders ratios with their spread, and missing peers with their reason", () => {
    const s = [
      sample(0, "h", 100_000, 2),
      sample(0, "x", 80_000, 3),
      sample(1, "h", 90_000, 2),
      sample(1, "x", 81_000, 2),
    ];
    const t = renderThroughputTable(
      [
        { id: "h", label: "haproxy", baseline: "h" },
        { id: "x", label: "lbkit", baseline: "h" },
        { id: "y", label: "later", baseline: "h", missing: "not built yet" },
      ],
      s,
    );
    const lines = t.split("\n");
    expect(lines[2]).toMatch(/^\| haproxy \| — \| 95\.0 k \| 1\.00 \(1\.00–1\.00\) \|/);
    expect(lines[3]).toMatch(/^\| lbkit \| haproxy \| 80\.5 k \| 0\.85 \(0\.80–0\.90\) \|/);
    expect(lines[3]).toContain("| 1.25 (1.00–1.50) |"); // p99 ratio
    expect(lines[3]).toContain("| 11.2 | 1.18 (1.11–1.25) |"); // CPU µs per request (90% of a core ÷ req/s), ratio
    expect(lines[4]).toBe("| later | | not built yet | | | | | | | | | | | | |");
    for (const l of lines) expect(l.split("|").length).toBe(lines[0]!.split("|").length);
  });
  it("churn: a row for each peer that ran the churn case, its errors apart from the keep-alive table's", () => {
    const churn = (round: number, peer: string, rps: number, p99Ms: number, errors = 0): Sample => ({
      ...sample(round, peer, rps, p99Ms),
      case: "churn",
      errors,
    });
    const rows = [
      { id: "h", label: "haproxy", baseline: "h" },
      { id: "x", label: "lbkit", baseline: "h" },
      { id: "t", label: "tls", baseline: "h" }, // ran no churn case: no row
      { id: "y", label: "later", baseline: "h", missing: "not built yet" },
    ];
    const s = [
      sample(0, "h", 90_000),
      sample(0, "x", 80_000),
      sample(0, "t", 50_000),
      churn(0, "h", 20_000, 4),
      churn(0, "x", 15_000, 6, 3),
      churn(1, "h", 10_000, 8),
      churn(1, "x", 8_000, 8),
    ];
    const lines = renderChurnTable(rows, s).split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^\| haproxy \| — \| 15\.0 k \| 1\.00 \(1\.00–1\.00\) \| 6\.00 \|/);
    // conn/s ratios 0.75 and 0.8; p99 ratios 1.5 and 1; CPU per connection 90% of a core ÷ conn/s: 60 and 112.5 µs
    expect(lines[3]).toBe(
      "| lbkit | haproxy | 11.5 k | 0.78 (0.75–0.80) | 7.00 | 1.25 (1.00–1.50) | 86.3 | 1.29 (1.25–1.33) | 3 |",
    );
    for (const l of lines) expect(l.split("|").length).toBe(lines[0]!.split("|").length);
    // the keep-alive table does not count the churn errors
    expect(renderThroughputTable(rows.slice(0, 2), s).split("\n")[3]).toMatch(/\| 0 \|$/);
  });
  it("first contact: each peer's first p99 with its ratio to its baseline, skipping peers that did not run", () => {
    const rows = [
      { id: "haproxy-http", label: "haproxy http", baseline: "haproxy-http" },
      { id: "lbkit-l7", label: "lbkit L7", baseline: "haproxy-http" },
      { id: "gone", label: "gone", baseline: "haproxy-http", missing: "not installed" },
    ];
    const p99 = new Map([
      ["haproxy-http", 1.2],
      ["lbkit-l7", 9.6],
      ["gone", 3],
    ]);
    expect(renderFirstContact(rows, p99)).toBe("haproxy http 1.20 ms, lbkit L7 9.60 ms (8.0 ×)");
    expect(renderFirstContact(rows, new Map())).toBe("none measured");
  });
  it("after idle: the median settle-run p99 and the median of same-round ratios, skipping rounds without both", () => {
    const rows = [
      { id: "haproxy-http", label: "haproxy http", baseline: "haproxy-http" },
      { id: "lbkit-l7", label: "lbkit L7", baseline: "haproxy-http" },
      { id: "h2", label: "h2", baseline: "haproxy-http" },
    ];
    const p99 = new Map([
      ["haproxy-http", [1, 2, 1, Number.NaN]],
      ["lbkit-l7", [3, 2, 2.5, 9]],
      ["h2", [Number.NaN, Number.NaN]],
    ]);
    // lbkit: median of 3, 2, 2.5, 9 is 2.75; ratios in rounds 1-3 only: 3, 1, 2.5 -> 2.5
    expect(renderAfterIdle(rows, p99)).toBe("haproxy http 1.00 ms, lbkit L7 2.75 ms (2.5 ×)");
    expect(renderAfterIdle(rows, new Map())).toBe("none measured");
  });

  it("memory rows: growth while streaming and RSS per 10k idle connections", () => {
    const M = 2 ** 20;
    const t = renderMemoryTable([
      {
        label: "haproxy",
        stream: { before: 15 * M, peak: 16 * M, after: 15 * M, bytesPerSec: 500 * M, bytes: 2 ** 30 },
        idle: { connections: 5000, before: 15 * M, open: 40 * M },
      },
    ]);
    expect(t.split("\n")[2]).toBe(
      "| haproxy | 1.00 GiB | 15.0 → 16.0 → 15.0 | 1.0 | 500.0 | 5,000 | 15.0 → 40.0 | 50.0 |",
    );
  });
});

describe("peer configurations", () => {
  const listen = { host: "127.0.0.1", port: 1 };
  const backends = [{ host: "127.0.0.1", port: 2 }];
  it("haproxy: one thread, the mode asked for, http-reuse and keep-alive timeout only in http mode", () => {
    const http = haproxyConfig({ listen, backends, mode: "http" });
    expect(http).toMatch(/nbthread 1/);
    expect(http).toMatch(/mode http/);
    expect(http).toMatch(/http-reuse always/);
    expect(http).toMatch(/server s0 127\.0\.0\.1:2/);
    const tcp = haproxyConfig({ listen, backends, mode: "tcp" });
    expect(tcp).toMatch(/mode tcp/);
    expect(tcp).not.toMatch(/http-reuse|http-keep-alive/);
  });
  it("nginx: one worker, files under the scratch dir, upstream keepalive over HTTP/1.1", () => {
    const p = nginxProxyConfig({ dir: "/tmp/x", listen, backends, keepalive: 32 });
    expect(p).toMatch(/worker_processes 1;/);
    expect(p).toMatch(/pid \/tmp\/x\/nginx\.pid;/);
    expect(p).toMatch(/keepalive 32;/);
    expect(p).toMatch(/proxy_http_version 1\.1;/);
    expect(p).not.toMatch(/\/var\//);
    expect(nginxOriginConfig({ dir: "/tmp/x", listen, root: "/tmp/x/www" })).toMatch(/root \/tmp\/x\/www;/);
    const fixed = nginxOriginConfig({
      dir: "/tmp/x",
      listen,
      root: "/tmp/x/www",
      fixed: { "/small": 'a"b\\c\n' },
    });
    expect(fixed).toContain('location = /small { return 200 "a\\"b\\\\c\\n"; }');
  });
});

describe("originVerdict", () => {
  const rows = [
    { id: "direct", label: "origin" },
    { id: "h", label: "haproxy" },
    { id: "x", label: "lbkit", missing: "not built yet" },
  ];
  it("says the origin was not the bottleneck when it served well above the fastest proxy", () => {
    expect(originVerdict([sample(0, "direct", 100_000), sample(0, "h", 60_000)], rows)).toMatch(
      /100\.0 k req\/s directly, 1\.67 × the fastest proxy \(haproxy, 60\.0 k\): it was not the bottleneck/,
    );
  });
  it("warns when the origin is close to the proxies", () => {
    expect(originVerdict([sample(0, "direct", 65_000), sample(0, "h", 60_000)], rows)).toMatch(/with care/);
  });
});

describe("cpuVerdict", () => {
  const rows = [{ id: "direct" }, { id: "h" }];
  it("says the ratios are indicative when no proxy was CPU-bound", () => {
    expect(cpuVerdict([{ ...sample(0, "h", 1), cpuPct: 35 }], rows)).toMatch(/No proxy used more than 35%/);
    const busy = { ...sample(0, "h", 1), cpuPct: 97 };
    expect(cpuVerdict([busy], rows)).toMatch(/97% of its core: the small-body runs were CPU-bound/);
  });
});

describe("h2load", () => {
  const out = [
    "progress: 100% done",
    "",
    "finished in 2.00s, 16688.00 req/s, 586.75KB/s",
    "requests: 33376 total, 33386 started, 33376 done, 33370 succeeded, 2 failed, 1 errored, 0 timeout",
    "status codes: 33370 2xx, 0 3xx, 3 4xx, 0 5xx",
    "traffic: 1.15MB (1201536) total, 130.38KB (133504) headers (space savings 95.41%), 325.94KB (333760) data",
    "                     min         max         mean         sd        +/- sd",
    "time for request:       27us     71.48ms       180us      1.59ms    98.00%",
    "time for connect:     9.84ms     10.05ms      9.94ms       150us   100.00%",
  ].join("\n");
  it("parses the summary: req/s, bytes/s from the traffic total, mean time, failures and 4xx/5xx as errors", () => {
    expect(parseH2load(out)).toEqual({
      requests: 33376,
      seconds: 2,
      rps: 16688,
      bytesPerSec: 600768,
      meanMs: 0.18,
      errors: 6,
    });
    expect(h2loadArgs({ url: "https://h:1/s", clients: 50, streams: 10, requests: 12000 })).toEqual([
      "-c",
      "50",
      "-m",
      "10",
      "-n",
      "12000",
      "https://h:1/s",
    ]);
    expect(h2loadArgs({ url: "https://h:1/b", clients: 4, streams: 1, requests: 2 })[5]).toBe("4"); // ≥ clients
  });
  it("throws with the output when h2load printed no summary", () => {
    expect(() => parseH2load("No protocol negotiated. Aborted")).toThrow(/no summary[\s\S]*Aborted/);
  });
  it("haproxy's TLS bind line pins TLS 1.3, the suite and ALPN", () => {
    const cfg = haproxyConfig({
      listen: { host: "127.0.0.1", port: 9443 },
      backends: [{ host: "127.0.0.1", port: 9000 }],
      mode: "http",
      tls: { pem: "/d/c.pem", alpn: ["h2"], ciphersuites: "TLS_AES_128_GCM_SHA256" },
    });
    expect(cfg).toContain(
      "  bind 127.0.0.1:9443 ssl crt /d/c.pem alpn h2 ssl-min-ver TLSv1.3 ciphersuites TLS_AES_128_GCM_SHA256\n",
    );
  });
  it("same-round ratios skip a metric the client does not report (NaN)", () => {
    const s = (peer: string, p99Ms: number): Sample => ({
      round: 0,
      peer,
      case: "small",
      rps: 1,
      bytesPerSec: 1,
      p50Ms: p99Ms,
      p99Ms,
      errors: 0,
      cpuPct: 0,
      originCpuPct: 0,
      rssBytes: 0,
    });
    expect(sameRoundRatio([s("a", Number.NaN), s("b", Number.NaN)], "a", "b", "small", (x) => x.p99Ms)).toBe(
      undefined,
    );
  });
});
