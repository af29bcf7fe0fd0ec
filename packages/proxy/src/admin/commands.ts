/**
 * The admin API's requests (pure): method + path + body → a command, or the status that refuses it. Paths:
 *   GET  /stats (HTML) · /stats;csv · /stats;json · /metrics · /servers
 *   POST   /backends/<b>/servers/<s>                   {"state"?, "weight"?, "maxconn"?, "maxqueue"?}
 *   POST   /backends/<b>/servers/<s>/<enable|disable|drain|shutdown-sessions>
 *   PUT    /backends/<b>/servers/<s>                   ServerOptions without id (add)
 *   DELETE /backends/<b>/servers/<s>                   (remove)
 */

export type AdminCommand =
  | { kind: "stats"; format: "html" | "csv" | "json" }
  | { kind: "metrics" }
  | { kind: "servers" }
  | { kind: "set"; backend: string; server: string; change: ServerChange }
  | { kind: "add"; backend: string; server: string; options: Record<string, unknown> }
  | { kind: "remove"; backend: string; server: string }
  | { kind: "shutdown-sessions"; backend: string; server: string };

export interface ServerChange {
  state?: "up" | "down" | "drain" | "maint";
  weight?: number;
  maxconn?: number;
  /** The server's own queue's bound (requests bound to it at its maxconn); 0 unbounded. */
  maxqueue?: number;
}

export type Parsed = AdminCommand | { error: 400 | 404 | 405; message: string };

const STATES = ["up", "down", "drain", "maint"];
const ADD_KEYS = ["address", "port", "weight", "maxconn", "maxqueue", "backup", "check", "state"];
const LIMITS = ["maxconn", "maxqueue"] as const;

function json(body: string): Record<string, unknown> | undefined {
  if (body.trim() === "") return {};
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function change(o: Record<string, unknown>): ServerChange | string {
  const out: ServerChange = {};
  for (const k of Object.keys(o))
    if (!["state", "weight", "maxconn", "maxqueue"].includes(k)) return `unknown field ${k}`;
  if (o.state !== undefined) {
    if (typeof o.state !== "string" || !STATES.includes(o.state))
      return "state must be up, down, drain or maint";
    out.state = o.state as ServerChange["state"];
  }
  if (o.weight !== undefined) {
    if (!Number.isInteger(o.weight) || (o.weight as number) < 0 || (o.weight as number) > 256)
      return "weight must be an integer 0..256";
    out.weight = o.weight as number;
  }
  for (const k of LIMITS) {
    const v = o[k];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || (v as number) < 0) return `${k} must be an integer >= 0 (0: unlimited)`;
    out[k] = v as number;
  }
  if (Object.keys(out).length === 0) return "nothing to change (state, weight, maxconn or maxqueue)";
  return out;
}

function segment(s: string): string | undefined {
  try {
    const d = decodeURIComponent(s);
    for (let i = 0; i < d.length; i++) {
      const c = d.charCodeAt(i);
      if (c < 0x20 || c === 0x7f) return undefined;
    }
    return d === "" ? undefined : d;
  } catch {
    return undefined;
  }
}

export function parseCommand(method: string, url: string, body: string): Parsed {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  if (method === "GET" || method === "HEAD") {
    if (path === "/stats" || path === "/") return { kind: "stats", format: "html" };
    if (path === "/stats;csv" || path === "/stats.csv") return { kind: "stats", format: "csv" };
    if (path === "/stats;json" || path === "/stats.json") return { kind: "stats", format: "json" };
    if (path === "/metrics") return { kind: "metrics" };
    if (path === "/servers") return { kind: "servers" };
  }
  const parts = path.split("/");
  // ["", "backends", b, "servers", s, action?]
  if (
    parts.length < 5 ||
    parts.length > 6 ||
    parts[0] !== "" ||
    parts[1] !== "backends" ||
    parts[3] !== "servers"
  )
    return { error: 404, message: `no such admin path ${path}` };
  const backend = segment(parts[2] as string);
  const server = segment(parts[4] as string);
  if (backend === undefined || server === undefined)
    return { error: 400, message: "malformed backend or server name" };
  const action = parts[5];
  if (action !== undefined) {
    if (method !== "POST") return { error: 405, message: `${method} not allowed on ${path} (use POST)` };
    if (body.trim() !== "" && json(body) === undefined)
      return { error: 400, message: "body must be empty or JSON" };
    switch (action) {
      case "enable":
        return { kind: "set", backend, server, change: { state: "up" } };
      case "disable":
        return { kind: "set", backend, server, change: { state: "maint" } };
      case "drain":
        return { kind: "set", backend, server, change: { state: "drain" } };
      case "shutdown-sessions":
        return { kind: "shutdown-sessions", backend, server };
      default:
        return {
          error: 404,
          message: `no such action ${action} (enable, disable, drain, shutdown-sessions)`,
        };
    }
  }
  if (method === "DELETE") return { kind: "remove", backend, server };
  const o = json(body);
  if (method === "POST") {
    if (!o) return { error: 400, message: "body must be a JSON object" };
    const c = change(o);
    return typeof c === "string" ? { error: 400, message: c } : { kind: "set", backend, server, change: c };
  }
  if (method === "PUT") {
    if (!o) return { error: 400, message: "body must be a JSON object" };
    for (const k of Object.keys(o))
      if (!ADD_KEYS.includes(k)) return { error: 400, message: `unknown field ${k}` };
    if (typeof o.address !== "string" || !Number.isInteger(o.port))
      return { error: 400, message: "address (string) and port (integer) are required" };
    return { kind: "add", backend, server, options: o };
  }
  return { error: 405, message: `${method} not allowed on ${path}` };
}
