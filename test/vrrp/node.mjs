// An lbkit VRRP node for the network-namespace suites: runs one instance from the built dist on eth0 and prints
// one JSON line per event. Usage: node node.mjs '<json options>'. SIGTERM = clean stop (priority 0, VIPs
// removed), SIGKILL = crash, SIGUSR1 = handover(), SIGUSR2 = a tracked fault toggles.
// Option trackEth0: true adds trackInterface("eth0") (keepalived track_interface). Option loopDelay: N prints
// the event loop's delay (max, p99, ms) every N ms as {"event":"loop"} lines.
import { EventEmitter } from "node:events";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInstance, trackInterface } from "../../packages/vrrp/dist/index.js";

const opts = JSON.parse(process.argv[2] ?? "{}");
const t0 = Date.now();
const log = (o) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);

const track = new EventEmitter();
track.delta = 0;
track.fault = false;

const { trackEth0, loopDelay, ...rest } = opts;
if (loopDelay) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  setInterval(() => {
    log({ event: "loop", max: h.max / 1e6, p99: h.percentile(99) / 1e6 });
    h.reset();
  }, loopDelay).unref();
}
const tracks = [track];
if (trackEth0) tracks.push(await trackInterface("eth0", { interval: 50 }));
const inst = createInstance({ interface: "eth0", ...rest, tracks });
for (const event of ["master", "backup", "fault", "stop"])
  inst.on(event, (i) =>
    log({ event, reason: i.reason, from: i.from, master: i.master, priority: i.priority }),
  );
inst.on("priority", (p) => log({ event: "priority", from: p.from, to: p.to }));
inst.on("discard", (d) => log({ event: "discard", reason: d.reason, src: d.src }));
inst.on("error", (e) => log({ event: "error", message: e.message }));

process.on("SIGTERM", async () => {
  await inst.stop();
  for (const t of tracks) t.close?.();
  log({ event: "exit", stats: inst.stats });
  process.exit(0);
});
process.on("SIGUSR1", async () => {
  try {
    const r = await inst.handover();
    log({ event: "handover-done", master: r.master });
  } catch (e) {
    log({ event: "handover-failed", message: e.message });
  }
});
process.on("SIGUSR2", () => {
  track.fault = !track.fault;
  track.emit("change");
});

await inst.start();
log({ event: "started", address: inst.address, state: inst.state, startupMs: Date.now() - t0 });
