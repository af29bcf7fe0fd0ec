// Same-round ratios and the markdown table of the proxy bench. Pure: samples in, text out.

/** small and bulk: keep-alive clients; churn: small bodies with `Connection: close`, one request per connection. */
export type Case = "small" | "bulk" | "churn";

export interface Sample {
  round: number;
  peer: string;
  case: Case;
  rps: number;
  bytesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** the proxy process tree's CPU over the run, % of one core */
  cpuPct: number;
  /** the origin's CPU over the same run, % of one core (is the origin near its limit?) */
  originCpuPct: number;
  rssBytes: number;
}

export interface PeerRow {
  id: string;
  label: string;
  /** the peer whose same-round figures this row is divided by */
  baseline: string;
  /** set when the peer could not run (e.g. "not built yet") */
  missing?: string;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Ratio {
  median: number;
  min: number;
  max: number;
  rounds: number;
}

/** metric(peer) / metric(baseline) in each round where both ran; median, min and max over those rounds. */
export function sameRoundRatio(
  samples: readonly Sample[],
  peer: string,
  baseline: string,
  c: Case,
  metric: (s: Sample) => number,
): Ratio | undefined {
  const rs: number[] = [];
  for (const s of samples) {
    if (s.peer !== peer || s.case !== c) continue;
    const b = samples.find((x) => x.peer === baseline && x.case === c && x.round === s.round);
    if (!b || metric(b) === 0) continue;
    const r = metric(s) / metric(b);
    if (Number.isFinite(r)) rs.push(r); // a metric the peer's client does not report (h2load: percentiles)
  }
  if (rs.length === 0) return undefined;
  return { median: median(rs), min: Math.min(...rs), max: Math.max(...rs), rounds: rs.length };
}

/** Median of a metric over a peer's rounds. */
export function medianOf(samples: readonly Sample[], peer: string, c: Case, metric: (s: Sample) => number) {
  return median(samples.filter((s) => s.peer === peer && s.case === c).map(metric));
}

const fmtRatio = (r: Ratio | undefined) =>
  r === undefined
    ? "–"
    : r.rounds > 1
      ? `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`
      : r.median.toFixed(2);

export const fmtCount = (n: number) =>
  !Number.isFinite(n) ? "–" : n >= 1000 ? `${(n / 1000).toFixed(1)} k` : n.toFixed(0);
export const fmtMs = (n: number) => (!Number.isFinite(n) ? "–" : n < 10 ? n.toFixed(2) : n.toFixed(1));
export const fmtMiB = (bytes: number) => (!Number.isFinite(bytes) ? "–" : (bytes / 2 ** 20).toFixed(1));

/**
 * The proxy's own CPU time per small-body request, µs (its CPU share ÷ its request rate over the same run): what a
 * request costs the proxy, which holds up when a shared machine makes req/s swing between rounds.
 */
export const cpuPerRequest = (s: Sample): number => (s.rps > 0 ? (s.cpuPct * 1e4) / s.rps : Number.NaN);
const fmtUs = (n: number) => (!Number.isFinite(n) ? "–" : n.toFixed(1));

/**
 * One row per peer: small-body req/s, p50, p99, bulk MiB/s and CPU µs per request, each with its same-round ratio to the row's
 * baseline (median, min–max over rounds), then CPU, RSS and errors (medians / totals).
 */
export function renderThroughputTable(rows: readonly PeerRow[], samples: readonly Sample[]): string {
  const head =
    "| peer | vs | req/s | × | p50 ms | × | p99 ms | × | bulk MiB/s | × | CPU µs/req | × | CPU % (small / bulk) | RSS MiB | errors |";
  const sep = `|${"---|".repeat(15)}`;
  const lines = [head, sep];
  const labels = new Map(rows.map((r) => [r.id, r.label]));
  for (const r of rows) {
    if (r.missing) {
      lines.push(`| ${r.label} | | ${r.missing} |${" |".repeat(12)}`);
      continue;
    }
    const m = (c: Case, f: (s: Sample) => number) => medianOf(samples, r.id, c, f);
    const x = (c: Case, f: (s: Sample) => number) =>
      fmtRatio(sameRoundRatio(samples, r.id, r.baseline, c, f));
    const errors = samples
      .filter((s) => s.peer === r.id && s.case !== "churn")
      .reduce((a, s) => a + s.errors, 0);
    const rss = Math.max(...samples.filter((s) => s.peer === r.id).map((s) => s.rssBytes));
    lines.push(
      `| ${r.label} | ${r.id === r.baseline ? "—" : (labels.get(r.baseline) ?? r.baseline)} | ${fmtCount(m("small", (s) => s.rps))} | ${x("small", (s) => s.rps)} | ${fmtMs(m("small", (s) => s.p50Ms))} | ${x("small", (s) => s.p50Ms)} | ${fmtMs(m("small", (s) => s.p99Ms))} | ${x("small", (s) => s.p99Ms)} | ${fmtMiB(m("bulk", (s) => s.bytesPerSec))} | ${x("bulk", (s) => s.bytesPerSec)} | ${fmtUs(m("small", cpuPerRequest))} | ${x("small", cpuPerRequest)} | ${m("small", (s) => s.cpuPct).toFixed(0)} / ${m("bulk", (s) => s.cpuPct).toFixed(0)} | ${fmtMiB(rss)} | ${errors} |`,
    );
  }
  return lines.join("\n");
}

/**
 * The connection-churn table: one row per peer that ran the churn case (plain HTTP clients only): connections
 * (= requests) per second, p99 and the proxy's CPU per connection, each with its same-round ratio to the row's
 * baseline.
 */
export function renderChurnTable(rows: readonly PeerRow[], samples: readonly Sample[]): string {
  const lines = [
    "| peer | vs | conn/s | × | p99 ms | × | CPU µs/conn | × | errors |",
    `|${"---|".repeat(9)}`,
  ];
  const labels = new Map(rows.map((r) => [r.id, r.label]));
  for (const r of rows) {
    const own = samples.filter((s) => s.peer === r.id && s.case === "churn");
    if (r.missing || own.length === 0) continue;
    const m = (f: (s: Sample) => number) => medianOf(samples, r.id, "churn", f);
    const x = (f: (s: Sample) => number) => fmtRatio(sameRoundRatio(samples, r.id, r.baseline, "churn", f));
    const errors = own.reduce((a, s) => a + s.errors, 0);
    lines.push(
      `| ${r.label} | ${r.id === r.baseline ? "—" : (labels.get(r.baseline) ?? r.baseline)} | ${fmtCount(m((s) => s.rps))} | ${x((s) => s.rps)} | ${fmtMs(m((s) => s.p99Ms))} | ${x((s) => s.p99Ms)} | ${fmtUs(m(cpuPerRequest))} | ${x(cpuPerRequest)} | ${errors} |`,
    );
  }
  return lines.join("\n");
}

export interface MemoryRow {
  label: string;
  missing?: string;
  /** 1 GiB streamed through: RSS before, peak during, after (bytes) and throughput */
  stream?: { before: number; peak: number; after: number; bytesPerSec: number; bytes: number };
  /** idle keep-alive client connections: RSS before and with them open */
  idle?: { connections: number; before: number; open: number };
}

/** RSS rows: flat while a large body streams through; growth per 10k idle keep-alive connections. */
export function renderMemoryTable(rows: readonly MemoryRow[]): string {
  const lines = [
    "| peer | streamed | RSS before → peak → after (MiB) | peak growth MiB | stream MiB/s | idle conns | RSS before → open (MiB) | MiB per 10k idle |",
    `|${"---|".repeat(8)}`,
  ];
  for (const r of rows) {
    if (r.missing) {
      lines.push(`| ${r.label} | ${r.missing} |${" |".repeat(6)}`);
      continue;
    }
    const s = r.stream;
    const i = r.idle;
    lines.push(
      `| ${r.label} | ${s ? `${(s.bytes / 2 ** 30).toFixed(2)} GiB` : "–"} | ${s ? `${fmtMiB(s.before)} → ${fmtMiB(s.peak)} → ${fmtMiB(s.after)}` : "–"} | ${s ? fmtMiB(s.peak - s.before) : "–"} | ${s ? fmtMiB(s.bytesPerSec) : "–"} | ${i ? i.connections.toLocaleString("en") : "–"} | ${i ? `${fmtMiB(i.before)} → ${fmtMiB(i.open)}` : "–"} | ${i ? fmtMiB(((i.open - i.before) * 10_000) / i.connections) : "–"} |`,
    );
  }
  return lines.join("\n");
}

/** Whether the origin was the bottleneck: direct req/s against the fastest proxy's, same rounds. */
export function originVerdict(
  samples: readonly Sample[],
  rows: readonly { id: string; label: string; missing?: string }[],
) {
  const med = (id: string) =>
    median(samples.filter((s) => s.peer === id && s.case === "small").map((s) => s.rps));
  const direct = med("direct");
  const proxies = rows.filter((r) => r.id !== "direct" && !r.missing).map((r) => ({ r, rps: med(r.id) }));
  const top = proxies.sort((a, b) => b.rps - a.rps)[0];
  if (!top || !Number.isFinite(direct)) return "";
  const x = direct / top.rps;
  return `The origin served ${(direct / 1000).toFixed(1)} k req/s directly, ${x.toFixed(2)} × the fastest proxy (${top.r.label}, ${(top.rps / 1000).toFixed(1)} k)${x > 1.2 ? ": it was not the bottleneck." : ": **close to the proxies — treat the small-body ratios with care**."}`;
}

/**
 * Whether the proxies were CPU-bound: when none used most of its pinned core in the small-body runs, they waited
 * on the shared machine, and the ratios say less about capacity.
 */
export function cpuVerdict(
  samples: readonly Sample[],
  rows: readonly { id: string; missing?: string }[],
): string {
  const meds = rows
    .filter((r) => r.id !== "direct" && !r.missing)
    .map((r) => median(samples.filter((s) => s.peer === r.id && s.case === "small").map((s) => s.cpuPct)))
    .filter(Number.isFinite);
  if (meds.length === 0) return "";
  const top = Math.max(...meds);
  return top >= 80
    ? `The busiest proxy used ${top.toFixed(0)}% of its core: the small-body runs were CPU-bound.`
    : `No proxy used more than ${top.toFixed(0)}% of its core in the small-body runs: they waited on the shared machine, not on their own CPU, so these ratios are indicative, not a capacity comparison.`;
}

/**
 * The first-contact p99 of every peer that ran, with its ratio to its baseline's (one sample each): "lbkit L7
 * 9.20 ms (8.6 ×)".
 */
/**
 * The *after idle* line: per peer, the median over rounds of the p99 of its settle run (the first small-body run
 * after sitting idle while the other peers ran), and the median of its same-round ratios to its baseline's.
 * `p99ByPeer` holds one entry per round (NaN where none was measured).
 */
export function renderAfterIdle(
  rows: readonly PeerRow[],
  p99ByPeer: ReadonlyMap<string, readonly number[]>,
): string {
  const parts: string[] = [];
  for (const r of rows) {
    const xs = p99ByPeer.get(r.id);
    const own = xs?.filter((v) => Number.isFinite(v)) ?? [];
    if (r.missing || own.length === 0) continue;
    const base = p99ByPeer.get(r.baseline);
    const ratios =
      r.id === r.baseline || base === undefined
        ? []
        : (xs ?? []).flatMap((v, i) => {
            const b = base[i];
            return Number.isFinite(v) && b !== undefined && Number.isFinite(b) && b > 0 ? [v / b] : [];
          });
    const ratio = ratios.length > 0 ? ` (${median(ratios).toFixed(1)} ×)` : "";
    parts.push(`${r.label} ${fmtMs(median(own))} ms${ratio}`);
  }
  return parts.length > 0 ? parts.join(", ") : "none measured";
}

export function renderFirstContact(rows: readonly PeerRow[], p99ByPeer: ReadonlyMap<string, number>): string {
  const parts: string[] = [];
  for (const r of rows) {
    const v = p99ByPeer.get(r.id);
    if (r.missing || v === undefined || !Number.isFinite(v)) continue;
    const b = p99ByPeer.get(r.baseline);
    const ratio = r.id !== r.baseline && b !== undefined && b > 0 ? ` (${(v / b).toFixed(1)} ×)` : "";
    parts.push(`${r.label} ${fmtMs(v)} ms${ratio}`);
  }
  return parts.length > 0 ? parts.join(", ") : "none measured";
}
