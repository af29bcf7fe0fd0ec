// Micro-benchmark of the HTTP/1.1 wire layer: heads/s for a typical ~300-byte request, beside Node's own
// llhttp (process.binding("http_parser"), the parser behind node:http) on the same bytes in the same run.
// Run: pnpm --filter @lbkit/proxy build && node packages/proxy/bench/parse.mjs [seconds per case, default 1]
import {
  ChunkedBody,
  DEFAULT_HEAD_LIMITS,
  parseRequestHead,
  parseResponseHead,
  serialiseRequest,
} from "../dist/index.js";

const seconds = Number(process.argv[2] ?? 1);
const rounds = 5;

const request = Buffer.from(
  "GET /api/v1/items?id=12345&sort=desc HTTP/1.1\r\n" +
    "Host: api.example.com\r\n" +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\n" +
    "Accept: application/json\r\n" +
    "Accept-Encoding: gzip, deflate, br\r\n" +
    "Accept-Language: en-US,en;q=0.9\r\n" +
    "Cookie: session=abc123def456; theme=dark\r\n" +
    "Connection: keep-alive\r\n\r\n",
  "latin1",
);
const response = Buffer.from(
  "HTTP/1.1 200 OK\r\nDate: Mon, 30 Nov 2026 02:00:00 GMT\r\nContent-Type: application/json\r\n" +
    "Content-Length: 1234\r\nCache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n",
  "latin1",
);
const chunked = Buffer.from(`${`400\r\n${"x".repeat(0x400)}\r\n`.repeat(16)}0\r\n\r\n`, "latin1");

/** Operations per second of this process's CPU time (robust to other load on the machine). */
function measure(fn) {
  const batch = 1000;
  for (let i = 0; i < 20_000; i++) fn(); // warm up
  let ops = 0;
  const deadline = performance.now() + seconds * 1000;
  const c0 = process.cpuUsage();
  while (performance.now() < deadline) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
  }
  const c = process.cpuUsage(c0);
  return ops / ((c.user + c.system) / 1e6);
}

let sink = 0;
const cases = {
  "lbkit parseRequestHead": () => {
    const r = parseRequestHead(request, DEFAULT_HEAD_LIMITS);
    sink += r.length;
  },
  "lbkit parseRequestHead + all header strings": () => {
    const r = parseRequestHead(request, DEFAULT_HEAD_LIMITS);
    sink += r.head.headers.length;
  },
  "lbkit parseRequestHead + serialiseRequest": () => {
    const r = parseRequestHead(request, DEFAULT_HEAD_LIMITS);
    sink += serialiseRequest(r.head, { connection: "keep-alive" }).length;
  },
  "lbkit parseResponseHead": () => {
    const r = parseResponseHead(response, DEFAULT_HEAD_LIMITS, { method: "GET" });
    sink += r.length;
  },
  "lbkit ChunkedBody (16 KiB in 16 chunks)": () => {
    sink += new ChunkedBody().feed(chunked, 0);
  },
};

// llhttp through node's internal binding, as node:http drives it (headers as strings, one callback per head)
try {
  const { HTTPParser } = process.binding("http_parser");
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {});
  parser[HTTPParser.kOnHeadersComplete] = (_maj, _min, headers, _method, url) => {
    sink += headers.length + url.length;
  };
  parser[HTTPParser.kOnMessageComplete] = () => {};
  cases["llhttp (node:http's parser)"] = () => {
    if (parser.execute(request) instanceof Error) throw new Error("llhttp rejected the request");
  };
} catch (err) {
  console.log(`llhttp comparison unavailable: ${err.message}`);
}

const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < rounds; r++)
  for (const [name, fn] of Object.entries(cases)) results[name].push(measure(fn));
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const base = median(results["llhttp (node:http's parser)"] ?? [Number.NaN]);
console.log(
  `request head ${request.length} bytes, response head ${response.length} bytes; ops per CPU-second of this process, median of ${rounds} interleaved rounds`,
);
console.log("| case | ops/s | × llhttp |\n|---|---:|---:|");
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(`| ${name} | ${Math.round(m).toLocaleString("en")} | ${(m / base).toFixed(2)} |`);
}
if (sink === 42) console.log("");
