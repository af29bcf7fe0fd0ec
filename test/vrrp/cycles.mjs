// Start/stop cycles of one VRRP instance on eth0 with its default transport, VIP mover and announcer (raw socket,
// netlink, AF_PACKET), each cycle becoming master (VIP added, GARPs sent) before stopping. Prints one JSON line:
// open descriptors (/proc/self/fd) and pending timers/immediates after a warm-up cycle and after the last.
// Usage: node cycles.mjs '{"cycles":30, ...instance options}'
import { readdirSync } from "node:fs";
import { VrrpInstance } from "../../packages/vrrp/dist/index.js";

const { cycles = 30, ...opts } = JSON.parse(process.argv[2] ?? "{}");
const inst = new VrrpInstance({ interface: "eth0", ...opts });
const fds = () => readdirSync("/proc/self/fd").length;
const timers = () =>
  process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "Immediate").length;
const settle = () => new Promise((r) => setTimeout(r, 50));

async function cycle() {
  const master = new Promise((resolve) => {
    const on = (c) => {
      if (c.to !== "master") return;
      inst.off("change", on);
      resolve();
    };
    inst.on("change", on);
  });
  await inst.start();
  await master;
  await inst.stop();
}

await cycle();
await settle();
const before = { fds: fds(), timers: timers() };
for (let i = 1; i < cycles; i++) await cycle();
await settle();
const after = { fds: fds(), timers: timers() };
process.stdout.write(
  `${JSON.stringify({ event: "cycles", cycles, before, after, sent: inst.stats.advertsSent, masters: inst.stats.becameMaster })}\n`,
);
