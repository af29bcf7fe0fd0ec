// Configuration text for the real peers (haproxy, nginx as proxy and as origin). Pure: addresses in, text out.
// Shared by the bench (bench/proxy) and the smuggling corpus suite (test/proxy-corpus).

export interface Addr {
  host: string;
  port: number;
}
const hp = (a: Addr) => `${a.host}:${a.port}`;

export interface HaproxyOptions {
  listen: Addr;
  backends: readonly Addr[];
  mode: "http" | "tcp";
  /** seconds for client/server/keep-alive timeouts (long enough for idle-connection memory rows) */
  idleTimeout?: number;
  maxconn?: number;
  /** TLS termination on the bind line: the certificate and key in one PEM file, ALPN, TLS 1.3 suites. */
  tls?: BindTls;
}

export interface BindTls {
  /** certificate followed by its key (haproxy `crt`) */
  pem: string;
  alpn: readonly string[];
  /** TLS 1.3 cipher suites, e.g. TLS_AES_128_GCM_SHA256 (the bench pins one, the same on every peer) */
  ciphersuites: string;
}

/** `bind` with TLS: TLS 1.3 only, the given suite, ALPN. */
const bindTls = (t: BindTls) =>
  ` ssl crt ${t.pem} alpn ${t.alpn.join(",")} ssl-min-ver TLSv1.3 ciphersuites ${t.ciphersuites}`;

/** haproxy 2.6, one thread, sane timeouts; http mode reuses server connections (`http-reuse always`). */
export function haproxyConfig(o: HaproxyOptions): string {
  const t = o.idleTimeout ?? 60;
  return [
    "global",
    "  nbthread 1",
    `  maxconn ${o.maxconn ?? 4000}`,
    "defaults",
    `  mode ${o.mode}`,
    "  timeout connect 5s",
    `  timeout client ${t}s`,
    `  timeout server ${t}s`,
    ...(o.mode === "http" ? [`  timeout http-keep-alive ${t}s`, "  timeout http-request 10s"] : []),
    "frontend fe",
    `  bind ${hp(o.listen)}${o.tls ? bindTls(o.tls) : ""}`,
    "  default_backend be",
    "backend be",
    ...(o.mode === "http" ? ["  http-reuse always"] : []),
    ...o.backends.map((b, i) => `  server s${i} ${hp(b)}`),
    "",
  ].join("\n");
}

/** Paths nginx writes to, all inside `dir` (it runs as root; never touch /var/lib/nginx or /run). */
function nginxMain(dir: string, workerConnections: number): string[] {
  return [
    "worker_processes 1;",
    "daemon off;",
    `pid ${dir}/nginx.pid;`,
    "error_log stderr warn;",

    `events { worker_connections ${workerConnections}; }`,
  ];
}
function nginxTemp(dir: string): string[] {
  return [
    `  client_body_temp_path ${dir}/client_body;`,
    `  proxy_temp_path ${dir}/proxy;`,
    `  fastcgi_temp_path ${dir}/fastcgi;`,
    `  uwsgi_temp_path ${dir}/uwsgi;`,
    `  scgi_temp_path ${dir}/scgi;`,
  ];
}

export interface NginxProxyOptions {
  dir: string;
  listen: Addr;
  backends: readonly Addr[];
  /** idle upstream connections kept per worker */
  keepalive?: number;
  idleTimeout?: number;
}

/**
 * nginx 1.22 as reverse proxy: one worker, upstream keepalive (HTTP/1.1, Connection cleared), no disk
 * buffering of responses (`proxy_max_temp_file_size 0`: a large body streams through memory buffers).
 */
export function nginxProxyConfig(o: NginxProxyOptions): string {
  const t = o.idleTimeout ?? 60;
  return [
    ...nginxMain(o.dir, 40000),
    "http {",
    "  access_log off;",
    ...nginxTemp(o.dir),
    `  keepalive_timeout ${t}s;`,
    "  keepalive_requests 1000000;",
    `  upstream origin { ${o.backends.map((b) => `server ${hp(b)};`).join(" ")} keepalive ${o.keepalive ?? 64}; keepalive_requests 1000000; }`,
    `  server { listen ${hp(o.listen)};`,
    '    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";',
    "      proxy_max_temp_file_size 0; } }",
    "}",
    "",
  ].join("\n");
}

export interface NginxOriginOptions {
  dir: string;
  listen: Addr;
  /** directory with the static files */
  root: string;
  /**
   * Paths answered from memory (`return 200 "<body>"`) instead of a file: no open/fstat/close per request, about
   * half the origin's CPU per small response (12 → 7 µs measured), so the origin limits the proxies less.
   */
  fixed?: Record<string, string>;
}

const nginxString = (s: string) =>
  `"${s
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")}"`;

/** nginx as the origin: static files with sendfile (and `fixed` bodies from memory), one worker, keep-alive without a request cap. */
export function nginxOriginConfig(o: NginxOriginOptions): string {
  const fixed = Object.entries(o.fixed ?? {}).map(
    ([path, body]) => ` location = ${path} { return 200 ${nginxString(body)}; }`,
  );
  return [
    ...nginxMain(o.dir, 40000),
    "http {",
    "  access_log off;",
    ...nginxTemp(o.dir),
    "  sendfile on; tcp_nopush on; tcp_nodelay on;",
    "  keepalive_timeout 120s;",
    "  keepalive_requests 10000000;",
    "  default_type application/octet-stream;",
    `  server { listen ${hp(o.listen)}; root ${o.root}; location / { }${fixed.join("")} }`,
    "}",
    "",
  ].join("\n");
}
