/**
 * A frontend's `stats` option (HAProxy `stats uri` + `stats refresh`), validated (pure), and the HTTP answer the
 * L7 shell sends for it: `<uri>` the HTML page, `<uri>;csv` HAProxy's CSV, `<uri>;json` the JSON snapshot.
 * Like HAProxy's stats page it has no authentication of its own: bind it where only operators reach it, or use
 * the AdminServer (which requires credentials) instead.
 */
import { ProxyConfigError } from "../errors.js";
import { renderCsv } from "./csv.js";
import { renderHtml } from "./html.js";
import { renderJson, type StatsSnapshot } from "./snapshot.js";

export interface StatsOption {
  /** Path of the page, e.g. "/web-status". */
  uri: string;
  /** Seconds between the page's reloads, 0 = none. Default 5. */
  refresh?: number;
}

export function normaliseStats(at: string, v: unknown): Required<StatsOption> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null)
    throw new ProxyConfigError(at, v, 'must be { uri: "/web-status" }');
  for (const k of Object.keys(v))
    if (k !== "uri" && k !== "refresh")
      throw new ProxyConfigError(`${at}.${k}`, k, "is not an option (known: uri, refresh)");
  const o = v as StatsOption;
  if (typeof o.uri !== "string" || !/^\/[\x21-\x7e]*$/.test(o.uri) || /[?;#]/.test(o.uri))
    throw new ProxyConfigError(`${at}.uri`, o.uri, "must be a path starting with / (no spaces, ?, ; or #)");
  const refresh = o.refresh ?? 5;
  if (!Number.isInteger(refresh) || refresh < 0 || refresh > 3600)
    throw new ProxyConfigError(`${at}.refresh`, refresh, "must be whole seconds 0..3600");
  return { uri: o.uri, refresh };
}

/** Which rendering `path` asks for under `uri`, or undefined when it is not the stats page. */
export function statsFormat(uri: string, path: string): "html" | "csv" | "json" | undefined {
  if (!path.startsWith(uri)) return undefined;
  const rest = path.slice(uri.length);
  if (rest === "" || rest === "/") return "html";
  if (rest === ";csv") return "csv";
  if (rest === ";json") return "json";
  return undefined;
}

/** The whole HTTP/1.1 response for the stats page. */
export function statsResponse(
  snap: StatsSnapshot,
  option: Required<StatsOption>,
  format: "html" | "csv" | "json",
  head: boolean,
  close: boolean,
): Buffer {
  const body =
    format === "csv"
      ? renderCsv(snap)
      : format === "json"
        ? renderJson(snap)
        : renderHtml(snap, {
            refresh: option.refresh,
            csvHref: `${option.uri};csv`,
            jsonHref: `${option.uri};json`,
          });
  const type =
    format === "csv"
      ? "text/plain; charset=utf-8"
      : format === "json"
        ? "application/json"
        : "text/html; charset=utf-8";
  const b = Buffer.from(body);
  const h =
    `HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ncontent-length: ${b.length}\r\ncache-control: no-cache\r\n` +
    `${close ? "connection: close\r\n" : ""}\r\n`;
  return head ? Buffer.from(h, "latin1") : Buffer.concat([Buffer.from(h, "latin1"), b]);
}
