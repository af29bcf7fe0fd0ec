// An lbkit VRRP node for the network-namespace suites: runs one instance from the built dist on eth0 and prints
// one JSON line per event. Usage: node node.mjs '<json options>'. SIGTERM = clean stop (priority 0, VIPs
// removed), SIGKILL = crash, SIGUSR1 = handover(), SIGUSR2 = a tracked fault toggles.
// Options beyond the instance's: callerTransport + restarts (the node owns the transport and restarts the instance
// on it), startAfterAdvert (ms after a heard advert). Option trackEth0: true adds an InterfaceTracker on eth0 (keepalived track_interface). Each `change` is logged
// as an event named after the state entered ("stop" for initialize), as the suites read them. Option loopDelay: N
// prints the event loop's delay (max, p99, ms) every N ms as {"event":"loop"} lines.
import { EventEmitter } from "node:events";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { InterfaceTracker, RawTransport, VrrpInstance } from "../../packages/vrrp/dist/index.js";

const opts = JSON.parse(process.argv[2] ?? "{}");
const t0 = Date.now();
const log = (o) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);

const track = new EventEmitter();
track.delta = 0;
track.fault = false;

const { trackEth0, startAfterAdvert, callerTransport, restarts = 0, loopDelay, ...rest } = opts;
if (loopDelay) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  setInterval(() => {
    log({ event: "loop", max: h.max / 1e6, p99: h.percentile(99) / 1e6 });
    h.reset();
  }, loopDelay).unref();
}
const tracks = [track];
const owned = [];
if (trackEth0) {
  const t = new InterfaceTracker({ interface: "eth0", interval: 50 });
  await t.start();
  tracks.push(t);
  owned.push(t);
}
const family = `${opts.virtualAddresses}`.includes(":") ? 6 : 4;
// callerTransport: the node opens the raw transport itself and passes it in (the instance must never close it)
const transport = callerTransport
  ? new RawTransport({ interface: "eth0", family, unicastPeers: rest.unicastPeers })
  : undefined;
await transport?.start();
const inst = new VrrpInstance({ interface: "eth0", ...rest, tracks, transport });
inst.on("change", (c) =>
  log({
    event: c.to === "initialize" ? "stop" : c.to,
    reason: c.reason,
    from: c.from,
    master: c.master,
    priority: c.priority,
  }),
);
inst.on("priority", (p) => log({ event: "priority", from: p.from, to: p.to }));
inst.on("discard", (d) => log({ event: "discard", reason: d.reason, src: d.src }));
inst.on("error", (e) => log({ event: "error", message: e.message }));

process.on("SIGTERM", async () => {
  await inst.stop();
  await transport?.stop();
  for (const t of owned) await t.stop();
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

if (startAfterAdvert !== undefined) {
  // a backup that starts right after hearing nothing learns the master's interval only from its next advert:
  // start `startAfterAdvert` ms after one, so the next one is due within this node's own Master_Down_Interval
  const probe = new RawTransport({ interface: "eth0", family });
  await probe.start();
  await new Promise((resolve) => {
    const off = probe.onMessage(() => {
      off();
      resolve();
    });
  });
  await probe.stop();
  await new Promise((r) => setTimeout(r, startAfterAdvert));
}
await inst.start();
// restarts: stop and start the instance again (on the same transport when it is the caller's)
for (let i = 0; i < restarts; i++) {
  await inst.stop();
  await inst.start();
  log({ event: "restarted", state: inst.state });
}
log({ event: "started", address: inst.address, state: inst.state, startupMs: Date.now() - t0 });
