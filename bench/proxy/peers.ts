// The proxies under comparison and how each one starts in front of an origin. Shared by the bench and the
// smuggling corpus suite. lbkit's rows run examples/proxy/index.mjs once it exists; until then they are
// reported as "not built yet".
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Addr, haproxyConfig, nginxProxyConfig } from "./configs";
import { type Spawned, start, waitListening } from "./procs";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const LBKIT_EXAMPLE = join(REPO, "examples/proxy/index.mjs");
const PEER_DIR = fileURLToPath(new URL("./peers/", import.meta.url));

export type PeerId =
  | "direct"
  | "lbkit-l7"
  | "lbkit-l4"
  | "haproxy-http"
  | "haproxy-tcp"
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
}

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
    missing: () => (existsSync(LBKIT_EXAMPLE) ? undefined : "not built yet"),
  },
  {
    id: "lbkit-l4",
    label: "lbkit L4",
    baseline: "haproxy-tcp",
    mode: "tcp",
    missing: () => (existsSync(LBKIT_EXAMPLE) ? undefined : "not built yet"),
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

/**
 * V8 flags for every Node peer (lbkit, node-http-proxy, @fastify/http-proxy alike): a young generation fixed at
 * 16 MiB per semi-space (V8 starts at 1 MiB and, with a proxy's low survival rate, hardly grows it). A proxy
 * allocates a few KB per request and keeps almost none of it, so by default a scavenge comes every few hundred
 * requests and a pause lands in every p99: lbkit L7 26.8 scavenges per 10k small requests by default, 3.4 with
 * these flags (--trace-gc, same run; 16/32 gave the same count, 8/16 6.8), for about 26 MiB more RSS. The proxy
 * package's README recommends the same flags.
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
    case "haproxy-tcp": {
      const file = join(dir, "haproxy.cfg");
      const mode = id === "haproxy-http" ? "http" : "tcp";
      writeFileSync(
        file,
        haproxyConfig({
          listen: ctx.listen,
          backends: ctx.backends,
          mode,
          idleTimeout: ctx.idleTimeout,
          maxconn: ctx.maxconn,
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
    case "lbkit-l4": {
      let onLine: () => void = () => {};
      ready = new Promise<void>((r) => {
        onLine = r;
      });
      let out = "";
      p = start(process.execPath, nodeArgs(LBKIT_EXAMPLE, id === "lbkit-l7" ? "http" : "tcp"), {
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
