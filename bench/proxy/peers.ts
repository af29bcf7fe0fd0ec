// The proxies under comparison and how each one starts in front of an origin. Shared by the bench and the
// smuggling corpus suite. lbkit's rows run examples/proxy/index.mjs once it exists; until then they are
// reported as "not built yet".
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Addr, type BindTls, haproxyConfig, nginxProxyConfig } from "./configs";
import { type Spawned, start, waitListening } from "./procs";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const LBKIT_EXAMPLE = join(REPO, "examples/proxy/index.mjs");
const PEER_DIR = fileURLToPath(new URL("./peers/", import.meta.url));

export type PeerId =
  | "direct"
  | "lbkit-l7"
  | "lbkit-l7-ops"
  | "lbkit-l4"
  | "haproxy-http"
  | "haproxy-tcp"
  | "lbkit-tls"
  | "haproxy-tls"
  | "lbkit-h2"
  | "haproxy-h2"
  | "nginx"
  | "http-proxy"
  | "fastify";

export interface PeerDef {
  id: PeerId;
  label: string;
  /** the same-round reference: haproxy in the same mode */
  baseline: PeerId;
  mode: "http" | "tcp";
  /** why it cannot run on this machine, if it cannot */
  missing(): string | undefined;
  /**
   * How clients reach it: "http" (default, wrk), "https" (wrk over TLS 1.3), "h2" (h2load over TLS 1.3 with
   * ALPN h2). The TLS and h2 rows are load rows only (no memory row).
   */
  client?: "http" | "https" | "h2";
}

const h2loadMissing = () =>
  existsSync("/usr/bin/h2load") ? undefined : "h2load not installed (nghttp2-client)";
const lbkitBuilt = () => (existsSync(LBKIT_EXAMPLE) ? undefined : "not built yet");

export const PEERS: readonly PeerDef[] = [
  {
    id: "direct",
    label: "origin direct (no proxy)",
    baseline: "haproxy-http",
    mode: "http",
    missing: () => undefined,
  },
  {
    id: "lbkit-l7",
    label: "lbkit L7",
    baseline: "haproxy-http",
    mode: "http",
    missing: lbkitBuilt,
  },
  {
    // the overhead row: the same example with the stats page, the admin server (/metrics) and the JSON access log
    // to a file, divided by plain lbkit L7 in the same round
    id: "lbkit-l7-ops",
    label: "lbkit L7 with stats, metrics and access log on",
    baseline: "lbkit-l7",
    mode: "http",
    missing: lbkitBuilt,
  },
  {
    id: "lbkit-l4",
    label: "lbkit L4",
    baseline: "haproxy-tcp",
    mode: "tcp",
    missing: lbkitBuilt,
  },
  {
    id: "haproxy-http",
    label: "haproxy 2.6 http",
    baseline: "haproxy-http",
    mode: "http",
    missing: () => undefined,
  },
  {
    id: "haproxy-tcp",
    label: "haproxy 2.6 tcp",
    baseline: "haproxy-tcp",
    mode: "tcp",
    missing: () => undefined,
  },
  { id: "nginx", label: "nginx 1.22", baseline: "haproxy-http", mode: "http", missing: () => undefined },
  {
    id: "lbkit-tls",
    label: "lbkit L7 TLS termination",
    baseline: "haproxy-tls",
    mode: "http",
    client: "https",
    missing: lbkitBuilt,
  },
  {
    id: "haproxy-tls",
    label: "haproxy 2.6 TLS termination",
    baseline: "haproxy-tls",
    mode: "http",
    client: "https",
    missing: () => undefined,
  },
  {
    id: "lbkit-h2",
    label: "lbkit h2 clients (h2load)",
    baseline: "haproxy-h2",
    mode: "http",
    client: "h2",
    missing: () => lbkitBuilt() ?? h2loadMissing(),
  },
  {
    id: "haproxy-h2",
    label: "haproxy 2.6 h2 clients (h2load)",
    baseline: "haproxy-h2",
    mode: "http",
    client: "h2",
    missing: h2loadMissing,
  },
  {
    id: "http-proxy",
    label: "node-http-proxy",
    baseline: "haproxy-http",
    mode: "http",
    missing: () => undefined,
  },
  {
    id: "fastify",
    label: "@fastify/http-proxy",
    baseline: "haproxy-http",
    mode: "http",
    missing: () => undefined,
  },
];

export interface StartContext {
  /** scratch directory for config files */
  dir: string;
  listen: Addr;
  backends: readonly Addr[];
  /** taskset CPU list for the proxy */
  cpus?: string;
  nofile?: number;
  /** haproxy maxconn (it reserves about two fds per connection, within the open-file limit) */
  maxconn?: number;
  /** idle timeouts in seconds */
  idleTimeout?: number;
  /** the certificate for the TLS and h2 peers: separate PEM files (lbkit) and one combined file (haproxy) */
  tls?: { cert: string; key: string; pem: string; ciphersuites: string };
}

export interface RunningPeer {
  id: PeerId;
  addr: Addr;
  /** the process whose tree is measured (nginx: master + worker) */
  pid: number;
  proc: Spawned;
  stop(): Promise<void>;
}

const hp = (a: Addr) => `${a.host}:${a.port}`;
const missingTls = (id: string): never => {
  throw new Error(`bench: peer ${id} needs ctx.tls (a certificate)`);
};

/**
 * V8 flags for every Node peer (lbkit, node-http-proxy, @fastify/http-proxy alike): a young generation fixed at
 * 16 MiB per semi-space (V8 starts at 1 MiB and, with a proxy's low survival rate, hardly grows it). A proxy
 * allocates a few KB per request and keeps almost none of it, so by default a scavenge comes every few hundred
 * requests and a pause lands in every p99: lbkit L7 26.8 scavenges per 10k small requests by default, 3.4 with
 * these flags (--trace-gc, same run; 16/32 gave the same count, 8/16 6.8), for about 26 MiB more RSS. The proxy
 * package's README recommends the same flags. (`--no-incremental-marking` and then
 * `--no-allocation-site-pretenuring` were here for churn until their causes in lbkit were fixed: a connection
 * Set, then connection-long object literals.) `--no-memory-reducer` is not here: it removes the after-idle
 * recompilation the README describes, but in A/B runs its CPU per request in steady state was 0.77–1.25 ×
 * that of a process without it (median 1.10), a difference this machine's noise does not settle.
 */
export const NODE_PEER_FLAGS = ["--min-semi-space-size=16", "--max-semi-space-size=16"];

/** Starts one proxy peer and resolves once it accepts connections. Not for "direct". */
export async function startPeer(id: PeerId, ctx: StartContext): Promise<RunningPeer> {
  const dir = join(ctx.dir, id);
  mkdirSync(dir, { recursive: true });
  const so = { cpus: ctx.cpus, nofile: ctx.nofile };
  const nodeArgs = (script: string, mode?: string) => [
    ...NODE_PEER_FLAGS,
    script,
    "--listen",
    hp(ctx.listen),
    "--backend",
    ctx.backends.map(hp).join(","),
    ...(mode ? ["--mode", mode] : []),
    // lbkit's example takes only the flags it documents
    ...(ctx.idleTimeout && !mode ? ["--idle-timeout", String(ctx.idleTimeout)] : []),
  ];
  let p: Spawned;
  let ready: Promise<void> | undefined;
  switch (id) {
    case "haproxy-http":
    case "haproxy-tls":
    case "haproxy-h2":
    case "haproxy-tcp": {
      const file = join(dir, "haproxy.cfg");
      const mode = id === "haproxy-tcp" ? "tcp" : "http";
      const t = ctx.tls;
      const tls: BindTls | undefined =
        id === "haproxy-http" || id === "haproxy-tcp"
          ? undefined
          : t
            ? { pem: t.pem, ciphersuites: t.ciphersuites, alpn: id === "haproxy-h2" ? ["h2"] : ["http/1.1"] }
            : missingTls(id);
      writeFileSync(
        file,
        haproxyConfig({
          listen: ctx.listen,
          backends: ctx.backends,
          mode,
          idleTimeout: ctx.idleTimeout,
          maxconn: ctx.maxconn,
          ...(tls ? { tls } : {}),
        }),
      );
      p = start("haproxy", ["-f", file, "-db"], so);
      break;
    }
    case "nginx": {
      const file = join(dir, "nginx.conf");
      writeFileSync(
        file,
        nginxProxyConfig({ dir, listen: ctx.listen, backends: ctx.backends, idleTimeout: ctx.idleTimeout }),
      );
      p = start("nginx", ["-p", dir, "-c", file, "-e", "stderr"], so);
      break;
    }
    case "http-proxy":
      p = start(process.execPath, nodeArgs(join(PEER_DIR, "http-proxy.mjs")), so);
      break;
    case "fastify":
      p = start(process.execPath, nodeArgs(join(PEER_DIR, "fastify-proxy.mjs")), so);
      break;
    case "lbkit-l7":
    case "lbkit-l7-ops":
    case "lbkit-tls":
    case "lbkit-h2":
    case "lbkit-l4": {
      let onLine: () => void = () => {};
      ready = new Promise<void>((r) => {
        onLine = r;
      });
      let out = "";
      const args = nodeArgs(LBKIT_EXAMPLE, id === "lbkit-l4" ? "tcp" : "http");
      // stats page + admin server (/metrics) + JSON access log to a file in the peer's directory
      if (id === "lbkit-l7-ops") args.push("--stats", "--log", "--log-file", join(dir, "access.log"));
      if (id === "lbkit-tls" || id === "lbkit-h2") {
        const t = ctx.tls ?? missingTls(id);
        args.push(
          "--tls-cert",
          t.cert,
          "--tls-key",
          t.key,
          "--tls-min",
          "TLSv1.3",
          "--tls-ciphers",
          t.ciphersuites,
        );
        if (id === "lbkit-h2") args.push("--h2");
      }
      p = start(process.execPath, args, {
        ...so,
        cwd: REPO,
        onStdout: (d) => {
          out += d;
          if (out.includes("listening")) onLine();
        },
      });
      break;
    }
    case "direct":
      throw new Error("bench: the origin is not a proxy peer");
  }
  await waitListening(ctx.listen.host, ctx.listen.port, p);
  if (ready) await ready;
  return { id, addr: ctx.listen, pid: p.pid, proc: p, stop: () => p.stop() };
}
