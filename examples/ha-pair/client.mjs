// The ha-pair demo's client: sends --rate HTTP GETs per second to --url (a fresh connection each, 1 s timeout)
// for --duration seconds, and prints one JSON line per second: answered, failed, and who served them.
//   node client.mjs --url http://198.18.0.200/index.html --rate 50 --duration 30
import { request } from "node:http";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({
  options: {
    url: { type: "string" },
    rate: { type: "string", default: "50" },
    duration: { type: "string", default: "30" },
  },
});
const rate = Number(o.rate);
const end = Date.now() + Number(o.duration) * 1000;
let bucket = { ok: 0, failed: 0, servers: {}, proxies: {}, errors: {} };
process.stdout.on("error", () => process.exit(0)); // EPIPE: the demo is gone

function one() {
  const req = request(o.url, { agent: false, timeout: 1000 }, (res) => {
    res.resume();
    res.on("end", () => {
      if (res.statusCode === 200) {
        bucket.ok++;
        const s = res.headers["x-served-by"] ?? "?";
        const p = res.headers["x-proxy-address"] ?? "?";
        bucket.servers[s] = (bucket.servers[s] ?? 0) + 1;
        bucket.proxies[p] = (bucket.proxies[p] ?? 0) + 1;
      } else fail(`HTTP ${res.statusCode}`);
    });
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", (e) => fail(e.code ?? e.message));
  req.end();
}
function fail(why) {
  bucket.failed++;
  bucket.errors[why] = (bucket.errors[why] ?? 0) + 1;
}
const sender = setInterval(() => {
  if (Date.now() >= end) return clearInterval(sender);
  one();
}, 1000 / rate);
const reporter = setInterval(() => {
  console.log(JSON.stringify({ event: "second", t: Date.now(), ...bucket }));
  bucket = { ok: 0, failed: 0, servers: {}, proxies: {}, errors: {} };
  if (Date.now() >= end + 1500) {
    clearInterval(reporter);
    process.exit(0);
  }
}, 1000);
process.on("SIGTERM", () => process.exit(0));
