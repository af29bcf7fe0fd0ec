/**
 * The stats page (pure): one self-contained HTML document (inline CSS, no scripts or external assets) listing
 * frontends, backends and servers as HAProxy's `stats uri` page does, with its state colours; it refreshes
 * itself and its tables scroll sideways on a phone. Rows carry `data-server`/`data-status` for tools and tests.
 */
import type { Traffic } from "./counters.js";
import type { BackendRow, ServerRow, StatsSnapshot } from "./snapshot.js";

export interface HtmlOptions {
  /** Seconds between automatic reloads, 0 = none. Default 5. */
  refresh?: number;
  /** Page title. Default "lbkit statistics". */
  title?: string;
  /** Link to the CSV of the same data (e.g. `/web-status;csv`). */
  csvHref?: string;
  /** Link to the JSON of the same data. */
  jsonHref?: string;
}

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c] as string);
}

function dur(sec: number): string {
  if (sec < 0) return "";
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

function bytes(n: number): string {
  if (n < 1024) return String(n);
  const u = ["K", "M", "G", "T"];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)}${u[i]}`;
}

function cls(status: string, backup: boolean): string {
  if (status.startsWith("UP ")) return "goingdown"; // "UP 1/3": checks failing, not yet down
  if (status.startsWith("DOWN ")) return "goingup";
  switch (status) {
    case "UP":
      return backup ? "bup" : "up";
    case "DOWN":
      return "down";
    case "MAINT":
      return "maint";
    case "DRAIN":
      return "drain";
    case "OPEN":
      return "up";
    default:
      return "nochk";
  }
}

const HEAD =
  "<tr><th>Name</th><th>Status</th><th>Since</th><th>Wght</th><th>Sessions<br>cur/max/lim</th>" +
  "<th>Queue<br>cur/max</th><th>Rate</th><th>Total</th><th>Bytes<br>in/out</th><th>1xx/2xx/3xx/4xx/5xx</th>" +
  "<th>Errors<br>req/conn/resp</th><th>Retr/Redis</th><th>Last check</th><th>Down</th></tr>";

function hrsp(t: Traffic): string {
  return t.hrsp.slice(0, 5).join("/");
}

function row(
  name: string,
  status: string,
  backup: boolean,
  since: string,
  weight: string,
  sess: string,
  queue: string,
  rate: number,
  t: Traffic,
  check: string,
  down: string,
  data: string,
): string {
  return (
    `<tr class="${cls(status, backup)}"${data}><td class="n">${escapeHtml(name)}</td><td>${escapeHtml(status)}</td>` +
    `<td>${since}</td><td>${weight}</td><td>${sess}</td><td>${queue}</td><td>${rate}</td><td>${t.stot}</td>` +
    `<td>${bytes(t.bin)}/${bytes(t.bout)}</td><td>${hrsp(t)}</td><td>${t.ereq}/${t.econ}/${t.eresp}</td>` +
    `<td>${t.wretr}/${t.wredis}</td><td>${check}</td><td>${down}</td></tr>`
  );
}

function serverHtml(s: ServerRow): string {
  const c = s.check;
  const check = c
    ? `<span title="${escapeHtml(c.desc)}">${escapeHtml(c.status)}${c.code ? ` ${c.code}` : ""} in ${c.duration}ms</span>`
    : "";
  return row(
    s.id,
    s.transition ? `${s.status} ${s.transition}` : s.status,
    s.backup,
    dur(s.lastchg),
    String(s.weight),
    `${s.scur}/${s.smax}/${s.slim || "-"}`,
    `${s.qcur}/${s.qmax}`,
    s.rate,
    s.traffic,
    check,
    dur(s.downtime),
    ` data-server="${escapeHtml(`${s.backend}/${s.id}`)}" data-status="${escapeHtml(s.status)}"`,
  );
}

function backendHtml(b: BackendRow): string {
  const rows = b.servers.map(serverHtml).join("");
  const total = row(
    "Backend",
    b.status,
    false,
    dur(b.lastchg),
    String(b.weight),
    `${b.scur}/${b.smax}/-`,
    `${b.qcur}/${b.qmax}`,
    b.rate,
    b.traffic,
    `${b.act} act, ${b.bck} bck`,
    dur(b.downtime),
    ` data-backend="${escapeHtml(b.id)}" data-status="${b.status}"`,
  );
  return (
    `<h2>${escapeHtml(b.id)} <small>backend · ${b.mode} · ${escapeHtml(b.algo)}</small></h2>` +
    `<div class="t"><table>${HEAD}${rows}${total}</table></div>`
  );
}

const CSS = `body{font:13px/1.35 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:8px;color:#111;background:#fff}
h1{font-size:18px;margin:4px 0}h2{font-size:15px;margin:14px 0 4px}small{color:#555;font-weight:normal}
.t{overflow-x:auto;-webkit-overflow-scrolling:touch}table{border-collapse:collapse;min-width:100%}
th,td{border:1px solid #999;padding:2px 5px;text-align:right;white-space:nowrap}th{background:#20a0a0;color:#fff;font-weight:600}
td.n{text-align:left;font-weight:600;position:sticky;left:0;background:inherit}th:first-child{position:sticky;left:0}.up{background:#c0ffc0}.bup{background:#b0d0ff}.down{background:#ff9090}
.maint{background:#c07820}.goingdown{background:#ffffa0}.goingup{background:#ffd020}.drain{background:#b0b0ff}.nochk{background:#e0e0e0}
.legend span{display:inline-block;padding:1px 6px;margin:2px;border:1px solid #999}
@media (max-width:600px){body{margin:4px;font-size:12px}th,td{padding:2px 3px}}`;

/** The page. */
export function renderHtml(snap: StatsSnapshot, options: HtmlOptions = {}): string {
  const refresh = options.refresh ?? 5;
  const title = escapeHtml(options.title ?? "lbkit statistics");
  const links = [
    options.csvHref ? `<a href="${escapeHtml(options.csvHref)}">CSV</a>` : "",
    options.jsonHref ? `<a href="${escapeHtml(options.jsonHref)}">JSON</a>` : "",
  ]
    .filter(Boolean)
    .join(" · ");
  const fe = snap.frontends
    .map((f) =>
      row(
        f.id,
        f.status,
        false,
        "",
        "",
        `${f.scur}/${f.smax}/${f.slim || "-"}`,
        "-",
        f.rate,
        f.traffic,
        `${f.mode}, ${f.connTot} conns`,
        "",
        ` data-frontend="${escapeHtml(f.id)}"`,
      ),
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">${refresh > 0 ? `<meta http-equiv="refresh" content="${refresh}">` : ""}
<title>${title}</title><style>${CSS}</style></head><body>
<h1>${title}</h1><p>pid ${snap.pid} · up ${dur(snap.uptime)} · ${escapeHtml(new Date(snap.at).toISOString())}${links ? ` · ${links}` : ""}</p>
<p class="legend"><span class="up">active UP</span><span class="bup">backup UP</span><span class="down">DOWN</span><span class="drain">DRAIN</span><span class="maint">MAINT</span><span class="nochk">not checked</span></p>
<h2>Frontends</h2><div class="t"><table>${HEAD}${fe}</table></div>
${snap.backends.map(backendHtml).join("\n")}
</body></html>
`;
}
