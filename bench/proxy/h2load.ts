// h2load (nghttp2-client) invocation and output parsing, for the HTTP/2 rows. h2load prints no latency
// percentiles (only min/max/mean per request), so its rows carry req/s, bytes/s and errors; p50/p99 stay empty.
// Runs are a request count (-n), not a duration: h2load 1.52's -D sometimes never exits after "Stopped all
// clients" when its clients connected slowly (seen against a cold, loaded proxy whose every stream had completed).

export interface H2loadOptions {
  url: string;
  /** client connections */
  clients: number;
  /** concurrent streams per connection */
  streams: number;
  /** requests in all (at least `clients`) */
  requests: number;
}

export function h2loadArgs(o: H2loadOptions): string[] {
  const n = Math.max(o.clients, Math.round(o.requests));
  return ["-c", String(o.clients), "-m", String(o.streams), "-n", String(n), o.url];
}

export interface H2loadResult {
  requests: number;
  seconds: number;
  rps: number;
  bytesPerSec: number;
  /** mean time per request, ms */
  meanMs: number;
  /** failed + errored + timed-out requests, and non-2xx/3xx statuses */
  errors: number;
}

const UNIT: Record<string, number> = { us: 1e-3, ms: 1, s: 1000 };

/** Parses h2load's summary; throws naming the output when it has none (h2load failed to connect, say). */
export function parseH2load(stdout: string): H2loadResult {
  const fin = /finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/.exec(stdout);
  const req =
    /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      stdout,
    );
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  const traffic = /traffic: [\d.]+\w* \((\d+)\) total/.exec(stdout);
  const mean = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(stdout);
  if (!fin || !req || !codes || !traffic)
    throw new Error(`bench: h2load printed no summary (did it connect?):\n${stdout}`);
  const seconds = (Number(fin[1]) * (UNIT[fin[2] as string] as number)) / 1000;
  const done = Number(req[2]);
  return {
    requests: done,
    seconds,
    rps: Number(fin[3]),
    bytesPerSec: seconds > 0 ? Number(traffic[1]) / seconds : 0,
    meanMs: mean ? Number(mean[1]) * (UNIT[mean[2] as string] as number) : Number.NaN,
    errors: Number(req[4]) + Number(req[5]) + Number(req[6]) + Number(codes[3]) + Number(codes[4]),
  };
}
