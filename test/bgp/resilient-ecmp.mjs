// Router configuration, not lbkit: resilient ECMP for one prefix on the FRR router of test/bgp-ecmp. A router
// that supports resilient hashing keeps every surviving flow on its next hop when one leaves; Linux has it
// (resilient next-hop groups, kernel 5.13+), but FRR 8.4's zebra installs BGP multipath routes as hash-threshold
// groups only and replaces the route's whole group when a next hop leaves, which moves some survivors' flows
// too. This script mirrors zebra's next hops for `prefix` into one resilient group that it edits in place:
// `ip rule to <prefix> lookup <table>` sends the prefix to a route over that group, and on every `ip monitor
// route` event the group's membership is set to the next hops zebra installed in the main table. Run in the
// router's namespace: node resilient-ecmp.mjs <prefix> <dev> [buckets] [idleTimerSeconds]. Prints "synced <hops>"
// after each change; exits (removing its rule, route and nexthops) on SIGTERM.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

const [prefix, dev, buckets = "128", idle = "1"] = process.argv.slice(2);
const TABLE = "100";
const GROUP = 1000;
const run = promisify(execFile);
const ip = async (...args) => (await run("ip", args)).stdout;
const ids = new Map(); // gateway → nexthop id
let current; // the membership last synced (undefined: none yet)

async function sync() {
  const routes = JSON.parse(await ip("-j", "-4", "route", "show", prefix, "table", "main"));
  const hops = routes
    .flatMap((r) => (r.nexthops ? r.nexthops.map((n) => n.gateway) : [r.gateway]))
    .filter(Boolean)
    .sort();
  const key = hops.join(",");
  if (key === current) return;
  if (hops.length === 0) {
    await ip("route", "del", prefix, "table", TABLE).catch(() => undefined);
  } else {
    for (const gw of hops) {
      if (ids.has(gw)) continue;
      ids.set(gw, GROUP + 1 + ids.size);
      await ip("nexthop", "replace", "id", String(ids.get(gw)), "via", gw, "dev", dev);
    }
    const group = hops.map((gw) => ids.get(gw)).join("/");
    // edited in place: the buckets of a next hop that left go to the others, every other bucket stays
    await ip(
      "nexthop",
      "replace",
      "id",
      String(GROUP),
      "group",
      group,
      "type",
      "resilient",
      "buckets",
      buckets,
      "idle_timer",
      idle,
      "unbalanced_timer",
      "0",
    );
    await ip("route", "replace", prefix, "nhid", String(GROUP), "table", TABLE);
  }
  current = key;
  process.stdout.write(`synced ${key || "-"}\n`);
}

let pending = Promise.resolve();
const schedule = () => {
  pending = pending.then(sync).catch((e) => process.stdout.write(`error ${e.message}\n`));
};
const monitor = spawn("ip", ["-4", "monitor", "route"], { stdio: ["ignore", "pipe", "inherit"] });
monitor.stdout.on("data", schedule);
await ip("rule", "add", "to", prefix, "lookup", TABLE, "pref", "100");
schedule();

process.on("SIGTERM", async () => {
  monitor.kill();
  await pending;
  await ip("rule", "del", "to", prefix, "lookup", TABLE, "pref", "100").catch(() => undefined);
  await ip("route", "del", prefix, "table", TABLE).catch(() => undefined);
  for (const id of [GROUP, ...ids.values()])
    await ip("nexthop", "del", "id", String(id)).catch(() => undefined);
  process.exit(0);
});
