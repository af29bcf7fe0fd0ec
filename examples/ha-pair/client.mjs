// The ha-pair demo's client: sends --rate HTTP GETs per second to --url (a fresh connection each, 1 s timeout)
// for --duration seconds, and prints one JSON line per second: answered, failed, and who served them; with
// --records, a last line holding every request: [sent ms, done ms, ok 0/1, server, proxy, error, ms the server
// received it], and the longest the client's own event loop was held up (a starved client times requests out).
//   node client.mjs --url http://198.18.0.200/index.html --rate 50 --duration 30
import { request } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { cli } from "../cli.mjs";

const o = cli(
  `
usage: node examples/ha-pair/client.mjs --url URL [--rate N] [--duration S] [--records]
The ha-pair demo's client: --rate HTTP GETs per second to --url (a fresh connection each, 1 s timeout) for
--duration seconds; one JSON line per second (answered, failed, who served), and with --records every request.
  --url URL        what to request
  --rate N         requests per second (default 50)
  --duration S     seconds (default 30)
  --records        a last line with every request
  -h, --help       this text`,
  {
    url: { type: "string" },
    rate: { type: "string", default: "50" },
    duration: { type: "string", default: "30" },
    records: { type: "boolean", default: false },
  },
);
const rate = Number(o.rate);
const end = Date.now() + Number(o.duration) * 1000;
let bucket = { ok: 0, failed: 0, servers: {}, proxies: {}, errors: {} };
const records = [];
const stalls = monitorEventLoopDelay({ resolution: 10 });
stalls.enable();
process.stdout.on("error", () => process.exit(0)); // EPIPE: the demo is gone

function one() {
  const sent = Date.now();
  const record = (ok, server, proxy, error, receivedAt) => {
    if (o.records) records.push([sent, Date.now(), ok ? 1 : 0, server, proxy, error, receivedAt]);
  };
  const req = request(o.url, { agent: false, timeout: 1000 }, (res) => {
    res.resume();
    res.on("end", () => {
      if (res.statusCode === 200) {
        bucket.ok++;
        const s = res.headers["x-served-by"] ?? "?";
        const p = res.headers["x-lb"] ?? res.headers["x-proxy-address"] ?? "?";
        bucket.servers[s] = (bucket.servers[s] ?? 0) + 1;
        bucket.proxies[p] = (bucket.proxies[p] ?? 0) + 1;
        record(true, s, p, undefined, Number(res.headers["x-received-at"]) || null);
      } else {
        fail(`HTTP ${res.statusCode}`);
        record(false, "", "", `HTTP ${res.statusCode}`);
      }
    });
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", (e) => {
    fail(e.code ?? e.message);
    record(false, "", "", e.code ?? e.message);
  });
  req.end();
}
function fail(why) {
  bucket.failed++;
  bucket.errors[why] = (bucket.errors[why] ?? 0) + 1;
}
// on schedule: each tick sends every request that is due, so a busy machine does not lower the rate
const start = Date.now();
let due = 0;
const sender = setInterval(() => {
  const now = Math.min(Date.now(), end);
  const target = Math.floor(((now - start) * rate) / 1000);
  for (; due < target; due++) one();
  if (now >= end) clearInterval(sender);
}, 1000 / rate);
const reporter = setInterval(() => {
  console.log(JSON.stringify({ event: "second", t: Date.now(), ...bucket }));
  bucket = { ok: 0, failed: 0, servers: {}, proxies: {}, errors: {} };
  if (Date.now() >= end + 1500) {
    clearInterval(reporter);
    if (o.records)
      console.log(JSON.stringify({ event: "records", records, maxStallMs: Math.round(stalls.max / 1e6) }));
    process.exit(0);
  }
}, 1000);
process.on("SIGTERM", () => process.exit(0));
