// wrk invocation and output parsing. wrk runs with a Lua script whose done() prints one JSON line (prefixed
// WRK_JSON) with exact counts and latency percentiles, so nothing is scraped from wrk's human-readable text.

/** wrk's Lua `done` hook: one machine-readable line. Latency percentiles are in microseconds. */
export const WRK_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
`;

export interface WrkResult {
  requests: number;
  seconds: number;
  bytes: number;
  /** requests per second */
  rps: number;
  /** response bytes per second (headers included) */
  bytesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** socket errors (connect/read/write/timeout) plus non-2xx/3xx responses */
  errors: number;
}

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  seconds: number;
  script: string;
  /** wrk's per-request timeout in seconds */
  timeout?: number;
  /** extra request header lines (`-H`), e.g. `Connection: close` for a new connection per request */
  headers?: readonly string[];
}

export function wrkArgs(o: WrkOptions): string[] {
  return [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    `--timeout`,
    `${o.timeout ?? 5}s`,
    ...(o.headers ?? []).flatMap((h) => ["-H", h]),
    "-s",
    o.script,
    o.url,
  ];
}

/** Parses the WRK_JSON line out of wrk's stdout; throws naming the output when there is none. */
export function parseWrk(stdout: string): WrkResult {
  const line = stdout.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (!line) throw new Error(`bench: wrk printed no WRK_JSON line (is the Lua script loaded?):\n${stdout}`);
  const j = JSON.parse(line.slice("WRK_JSON ".length)) as Record<string, number>;
  const num = (k: string): number => {
    const v = j[k];
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new Error(`bench: wrk field ${k} missing in ${line}`);
    return v;
  };
  const seconds = num("duration_us") / 1e6;
  const requests = num("requests");
  const bytes = num("bytes");
  return {
    requests,
    seconds,
    bytes,
    rps: seconds > 0 ? requests / seconds : 0,
    bytesPerSec: seconds > 0 ? bytes / seconds : 0,
    p50Ms: num("p50_us") / 1000,
    p99Ms: num("p99_us") / 1000,
    meanMs: num("mean_us") / 1000,
    errors: num("connect") + num("read") + num("write") + num("status") + num("timeout"),
  };
}
