// A throwaway network lab for the examples (the failover demo's approach, importable): one namespace per host
// on a bridge that lives in a namespace of its own, nothing in the root namespace. Everything it creates is
// removed however the process ends: normal exit, an exception, SIGINT, SIGTERM, SIGHUP, or EPIPE on stdout.
// A SIGKILLed run cannot clean up; the next run deletes namespaces of dead runs with the same prefix.
import { execFileSync, spawn } from "node:child_process";

export const ip = (...args) =>
  execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

export function canUseNamespaces() {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** hosts: [{ name, address }] on 198.18.0.0/24. Returns the lab; `destroy()` is idempotent and synchronous. */
export function createLab(prefix, hosts) {
  reapDead(prefix);
  const tag = `${prefix}-${process.pid}`;
  const ns = (name) => `${tag}-${name}`;
  const created = [];
  const children = new Set();
  let destroyed = false;

  function destroy() {
    if (destroyed) return;
    destroyed = true;
    live.delete(destroy);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const name of [...created].reverse()) killAllIn(name);
    for (const name of created.reverse()) {
      try {
        ip("netns", "del", name);
      } catch {}
    }
  }
  live.add(destroy);
  hookProcess();

  try {
    ip("netns", "add", ns("br"));
    created.push(ns("br"));
    ip("-n", ns("br"), "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0");
    ip("-n", ns("br"), "link", "set", "br0", "type", "bridge", "mcast_snooping", "0");
    ip("-n", ns("br"), "link", "set", "br0", "up");
    hosts.forEach(({ name, address }, i) => {
      ip("netns", "add", ns(name));
      created.push(ns(name));
      const veth = `${String(process.pid).slice(-6)}v${i}`;
      ip("link", "add", veth, "netns", ns(name), "type", "veth", "peer", "name", `p${i}`, "netns", ns("br"));
      ip("-n", ns(name), "link", "set", veth, "name", "eth0");
      ip("-n", ns(name), "addr", "add", `${address}/24`, "dev", "eth0");
      ip("-n", ns(name), "link", "set", "eth0", "up");
      ip("-n", ns(name), "link", "set", "lo", "up");
      ip("-n", ns("br"), "link", "set", `p${i}`, "master", "br0", "up");
    });
  } catch (e) {
    destroy();
    throw e;
  }

  return {
    tag,
    ns,
    destroy,
    /** `ip -n <ns(host)> …` */
    ip: (host, ...args) => ip("-n", ns(host), ...args),
    /** SIGKILL every process in the host's namespace (a crash: daemons' forked children included) */
    killAll: (host) => killAllIn(ns(host)),
    /** a process in the host's namespace (killed by destroy()) */
    spawn(host, argv, opts = {}) {
      const child = spawn("ip", ["netns", "exec", ns(host), ...argv], {
        stdio: ["pipe", "pipe", "inherit"],
        ...opts,
      });
      children.add(child);
      child.once("exit", () => children.delete(child));
      return child;
    },
  };
}

// every live lab is destroyed however the process ends (one set of handlers for any number of labs)
const live = new Set();
let hooked = false;
function hookProcess() {
  if (hooked) return;
  hooked = true;
  const destroyAll = () => {
    for (const d of [...live]) d();
  };
  const onSignal = (code) => () => {
    destroyAll();
    process.exit(code);
  };
  process.once("exit", destroyAll);
  process.once("SIGINT", onSignal(130));
  process.once("SIGTERM", onSignal(143));
  process.once("SIGHUP", onSignal(129));
  process.stdout.on("error", (e) => {
    if (e.code === "EPIPE") onSignal(141)();
  });
}

/** The same interface without namespaces (the unprivileged demo on loopback): processes only. */
export function createLoopback() {
  const children = new Map(); // host → Set of children
  let destroyed = false;
  function destroy() {
    if (destroyed) return;
    destroyed = true;
    live.delete(destroy);
    for (const set of children.values())
      for (const c of set) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
  live.add(destroy);
  hookProcess();
  return {
    tag: "loopback",
    destroy,
    killAll: (host) => {
      for (const c of children.get(host) ?? []) c.kill("SIGKILL");
    },
    spawn(host, argv, opts = {}) {
      const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "inherit"], ...opts });
      if (!children.has(host)) children.set(host, new Set());
      children.get(host).add(child);
      child.once("exit", () => children.get(host).delete(child));
      return child;
    },
  };
}

function killAllIn(name) {
  try {
    for (const pid of ip("netns", "pids", name).split("\n").filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {}
    }
  } catch {}
}

function reapDead(prefix) {
  let list = "";
  try {
    list = ip("netns", "list");
  } catch {
    return;
  }
  for (const line of list.split("\n")) {
    const m = line.match(new RegExp(`^(${prefix}-(\\d+)-\\S+)`));
    if (!m) continue;
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      killAllIn(m[1]);
      try {
        ip("netns", "del", m[1]);
      } catch {}
    }
  }
}
