// The BGP lab: a router namespace running FRR (zebra + bgpd + bfdd, ECMP, BFD) and gobgpd on the balancer nodes.
// Every daemon runs inside a namespace created by test/lab, bound to lab addresses; nothing runs in the root
// namespace. FRR's sockets live under /var/run/frr/<pathspace> (frr -N), a directory made for and removed with
// the lab.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "../lab/build.js";
import { createLab, type Lab, type LabProcess } from "../lab/netns.js";

export const ROUTER_AS = 65000;
export const BALANCER_AS = 65001;

export interface Router {
  pathspace: string;
  procs: LabProcess[];
  vtysh(cmd: string): Promise<string>;
  /** next hops of `prefix` in the router's kernel FIB as zebra installed them (main table) */
  nexthops(prefix: string): Promise<string[]>;
  /** with `resilient`: the next hops of the resilient group that forwards the prefix, as last synced */
  resilientHops(): string[];
  stop(): Promise<void>;
}

export interface RouterOptions {
  neighbors: string[];
  /** BFD on every neighbor with these timers (ms); undefined: no BFD */
  bfd?: { tx: number; rx: number; mult: number };
  /** also accept IPv6 unicast routes (MP-BGP over the IPv4 sessions) */
  ipv6?: boolean;
  /** BGP keepalive / hold (s) */
  timers?: { keepalive: number; hold: number };
  /**
   * Router configuration, not lbkit: forward `prefix` over a resilient next-hop group that follows zebra's next
   * hops, edited in place (test/bgp/resilient-ecmp.mjs), so a next hop leaving moves only its own flows.
   * `idleTimer` (s, default 1): how long a bucket must be idle before it moves to a next hop that (re)joined.
   */
  resilient?: { prefix: string; buckets?: number; idleTimer?: number };
}

export async function startRouter(lab: Lab, node: string, o: RouterOptions): Promise<Router> {
  const me = lab.node(node);
  const pathspace = `${lab.id}-${node}`;
  const run = join("/var/run/frr", pathspace);
  mkdirSync(run, { recursive: true });
  const dir = run; // the daemons read their configuration as the frr user
  const { keepalive, hold } = o.timers ?? { keepalive: 3, hold: 9 };
  const bgpd = [
    "log stdout debugging",
    `router bgp ${ROUTER_AS}`,
    ` bgp router-id ${me.ipv4}`,
    " no bgp ebgp-requires-policy",
    " no bgp default ipv4-unicast",
    ` timers bgp ${keepalive} ${hold}`,
    " neighbor LB peer-group",
    ` neighbor LB remote-as ${BALANCER_AS}`,
    " neighbor LB timers connect 1",
    ` neighbor LB update-source ${me.ipv4}`, // the BFD session's source is known before BGP comes up
    ...(o.bfd ? [" neighbor LB bfd", " neighbor LB bfd profile lbkit"] : []),
    ...o.neighbors.map((n) => ` neighbor ${n} peer-group LB`),
    " address-family ipv4 unicast",
    "  neighbor LB activate",
    "  maximum-paths 8",
    " exit-address-family",
    ...(o.ipv6
      ? [
          " address-family ipv6 unicast",
          "  neighbor LB activate",
          "  maximum-paths 8",
          " exit-address-family",
        ]
      : []),
    "",
  ].join("\n");
  const bfdd = o.bfd
    ? [
        "bfd",
        " profile lbkit",
        `  detect-multiplier ${o.bfd.mult}`,
        `  receive-interval ${o.bfd.rx}`,
        `  transmit-interval ${o.bfd.tx}`,
        " !",
        "!",
        "",
      ].join("\n")
    : "";
  writeFileSync(join(dir, "zebra.conf"), "log stdout informational\n");
  writeFileSync(join(dir, "bgpd.conf"), bgpd);
  writeFileSync(join(dir, "bfdd.conf"), bfdd);
  await lab.exec(node, ["chown", "-R", "frr:frr", run]); // the daemons drop to the frr user
  await lab.exec(node, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  await lab.exec(node, ["sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1"]); // L4 hash: flows spread
  await lab.exec(node, ["sysctl", "-qw", "net.ipv4.conf.all.send_redirects=0"]);
  await lab.exec(node, ["sysctl", "-qw", "net.ipv4.conf.eth0.send_redirects=0"]);
  const common = (d: string) => ["-N", pathspace, "-f", join(dir, `${d}.conf`), "-i", join(run, `${d}.pid`)];
  const procs: LabProcess[] = [];
  let mirror: LabProcess | undefined;
  const vtysh = async (cmd: string) => (await lab.exec(node, ["vtysh", "-N", pathspace, "-c", cmd])).stdout;
  try {
    await startDaemons();
  } catch (e) {
    for (const p of procs) p.kill("SIGKILL");
    rmSync(run, { recursive: true, force: true });
    throw e;
  }
  async function startDaemons() {
    const zebra = lab.spawn(node, ["/usr/lib/frr/zebra", ...common("zebra")]);
    procs.push(zebra);
    await waitFile(join(run, "zserv.api"), 10_000).catch((e: Error) => {
      throw new Error(`${e.message}\nzebra: ${zebra.output()}`);
    });
    if (o.bfd) procs.push(lab.spawn(node, ["/usr/lib/frr/bfdd", ...common("bfdd")]));
    procs.push(lab.spawn(node, ["/usr/lib/frr/bgpd", ...common("bgpd"), "-l", me.ipv4]));
    if (o.resilient) {
      const { prefix, buckets = 128, idleTimer = 1 } = o.resilient;
      mirror = lab.spawnNode(node, fileURLToPath(new URL("./resilient-ecmp.mjs", import.meta.url)), [
        prefix,
        "eth0",
        String(buckets),
        String(idleTimer),
      ]);
      procs.push(mirror);
      await mirror.waitFor(/synced/, 10_000);
    }
    let last = "";
    await waitFor(
      async () => {
        last = await vtysh("show bgp summary").catch((e: Error) => e.message);
        return last.includes("BGP router identifier");
      },
      15_000,
      "bgpd",
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nvtysh: ${last}\n${procs.map((p) => p.output()).join("\n")}`);
    });
  }
  return {
    pathspace,
    procs,
    vtysh,
    async nexthops(prefix) {
      const { stdout } = await lab.exec(node, ["ip", "-4", "route", "show", prefix]);
      return [...stdout.matchAll(/via (\S+)/g)].map((m) => m[1]!).sort();
    },
    resilientHops() {
      const last = [...(mirror?.output() ?? "").matchAll(/^synced (\S+)$/gm)].at(-1)?.[1];
      return !last || last === "-" ? [] : last.split(",");
    },
    async stop() {
      for (const p of procs.reverse()) p.kill("SIGTERM");
      await Promise.race([Promise.all(procs.map((p) => p.exited)), new Promise((r) => setTimeout(r, 3000))]);
      for (const p of procs) p.kill("SIGKILL");
      rmSync(run, { recursive: true, force: true });
    },
  };
}

/** gobgpd in `node`'s namespace, its gRPC API on 127.0.0.1:50051 of that namespace only. */
export async function startGobgpd(lab: Lab, node: string): Promise<LabProcess> {
  const p = lab.spawn(node, [
    "gobgpd",
    "--api-hosts",
    "127.0.0.1:50051",
    "--pprof-disable",
    "-p",
    "-l",
    "info",
  ]);
  await waitFor(async () => {
    const r = await lab
      .exec(node, ["gobgp", "-u", "127.0.0.1", "global"])
      .catch((e: Error) => ({ stdout: e.message }));
    return /not started|AS:/.test(r.stdout);
  }, 10_000);
  return p;
}

export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what = "condition",
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > until) throw new Error(`lab: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function waitFile(path: string, timeoutMs: number): Promise<void> {
  const { existsSync } = await import("node:fs");
  await waitFor(() => existsSync(path), timeoutMs, path);
}

export interface BalancerOptions {
  vip: string;
  /** the router node's name and the web server nodes' names (their port is 8080) */
  router: string;
  webs: string[];
  bfd?: { tx: number; rx: number; mult: number };
  holdTime?: number;
  /** the other balancer nodes' names: a draining node tells them, and they hand its stray flows back (node.mjs) */
  peers?: string[];
}

/** Starts test/bgp/node.mjs (proxy + speaker) on `lb`, which runs gobgpd already; resolves once it has started. */
export async function startBalancer(lab: Lab, lb: string, o: BalancerOptions): Promise<LabProcess> {
  const addr = (n: string) => lab.node(n).ipv4;
  const opts = {
    id: lb,
    address: addr(lb),
    vip: o.vip,
    router: addr(o.router),
    routerAs: ROUTER_AS,
    localAs: BALANCER_AS,
    ...(o.holdTime ? { holdTime: o.holdTime } : {}),
    webs: o.webs.map((w) => ({ id: w, address: addr(w), port: 8080 })),
    ...(o.peers ? { peers: o.peers.map(addr) } : {}),
    ...(o.bfd ? { bfd: { desiredMinTx: o.bfd.tx, requiredMinRx: o.bfd.rx, detectMult: o.bfd.mult } } : {}),
  };
  const p = lab.spawnNode(lb, fileURLToPath(new URL("./node.mjs", import.meta.url)), [JSON.stringify(opts)]);
  await p.waitFor(/"event":"started"/, 20_000);
  return p;
}

export interface EcmpLabOptions {
  vip: string;
  lbs: string[];
  webs: string[];
  bfd: { tx: number; rx: number; mult: number };
}

/**
 * The three-tier lab of test/bgp-ecmp and bench/bgp: the packages the nodes run built; a "router" running FRR with
 * BFD and resilient ECMP for `vip`; web servers on :8080; a "client" routed to the VIPs via the router; and the
 * balancer nodes with `vip` on lo and gobgpd running (start their node.mjs with startBalancer).
 */
export async function startEcmpLab(o: EcmpLabOptions): Promise<{ lab: Lab; router: Router }> {
  for (const p of ["core", "balancer", "healthcheck", "proxy", "arp", "bgp", "kernel-lb"]) ensureBuilt(p);
  const lab = await createLab({ nodes: ["router", ...o.lbs, ...o.webs, "client"] });
  const addr = (n: string) => lab.node(n).ipv4;
  let router: Router | undefined;
  try {
    router = await startRouter(lab, "router", {
      neighbors: o.lbs.map(addr),
      bfd: o.bfd,
      resilient: { prefix: `${o.vip}/32` },
    });
    const web = fileURLToPath(new URL("./web.mjs", import.meta.url));
    for (const w of o.webs) await lab.spawnNode(w, web, [w, addr(w)]).waitFor(/listening/);
    await lab.exec("client", ["ip", "route", "add", "198.18.1.0/24", "via", addr("router")]);
    // the client's chosen source ports (fixed flows, 40000..49999) never meet an ephemeral port still in
    // TIME_WAIT from an earlier load: a CI run failed with EADDRINUSE on every reconnect from port 42008
    await lab.exec("client", ["sysctl", "-qw", "net.ipv4.ip_local_port_range=50000 65000"]);
    for (const lb of o.lbs) {
      await lab.exec(lb, ["ip", "addr", "add", `${o.vip}/32`, "dev", "lo"]);
      await startGobgpd(lab, lb);
    }
    return { lab, router };
  } catch (e) {
    await router?.stop();
    await lab.destroy();
    throw e;
  }
}
