// An lbkit node with a VRRP sync group (keepalived vrrp_sync_group) for the network-namespace suites: ONE process
// runs several instances from the built dist, joined by a SyncGroup, and prints one JSON line per event
// (each with the instance id and VRID; a `change` is logged as an event named after the state entered, "stop"
// for initialize). Usage: node sync-node.mjs '<json options>':
//   { group, priority, version, advertInterval, instances: [{ name, vrid, interface, vip, trackInterface? }] }
// trackInterface: "eth1" adds an InterfaceTracker on eth1 to that instance (keepalived track_interface → FAULT).
// Every instance also has a tracker the test flips: SIGUSR2 toggles the fault of the instance named by option
// `signalFault` (default the first). SIGUSR1 = handover() of one member (option `handover`, default the first),
// again = resume(). SIGTERM = clean stop of every member at once (priority-0 adverts, VIPs
// removed), then the group is stopped; SIGKILL = crash.
import { EventEmitter } from "node:events";
import { InterfaceTracker, SyncGroup, VrrpInstance } from "../../packages/vrrp/dist/index.js";

const opts = JSON.parse(process.argv[2] ?? "{}");
const log = (o) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);

const instances = [];
const flips = new Map();
const closers = [];
for (const spec of opts.instances) {
  const flip = new EventEmitter();
  flip.delta = 0;
  flip.fault = false;
  flips.set(spec.name, flip);
  const tracks = [flip];
  if (spec.trackInterface) {
    const t = new InterfaceTracker({ interface: spec.trackInterface, interval: 50 });
    await t.start();
    tracks.push(t);
    closers.push(() => t.stop());
  }
  const inst = new VrrpInstance({
    id: spec.name,
    interface: spec.interface,
    vrid: spec.vrid,
    version: opts.version ?? 3,
    advertInterval: opts.advertInterval ?? 100,
    priority: opts.priority,
    virtualAddresses: [spec.vip],
    tracks,
  });
  const vrid = spec.vrid;
  inst.on("change", (c) =>
    log({
      event: c.to === "initialize" ? "stop" : c.to,
      instance: c.id,
      vrid,
      reason: c.reason,
      from: c.from,
      master: c.master,
      priority: c.priority,
    }),
  );
  inst.on("ready", ({ id }) => log({ event: "ready", instance: id, vrid }));
  inst.on("error", (e) => log({ event: "error", instance: spec.name, vrid, message: e.message }));
  instances.push(inst);
}
const group = new SyncGroup({ id: opts.group ?? "group", members: instances });
await group.start();

let stopping = false;
process.on("SIGTERM", async () => {
  if (stopping) return;
  stopping = true;
  // every member resigns in the same tick: each stop() queues its priority-0 advert before its first await
  await Promise.all(instances.map((i) => i.stop()));
  await group.stop();
  for (const c of closers) await c();
  log({ event: "exit", stats: Object.fromEntries(instances.map((i) => [i.id, i.stats])) });
  process.exit(0);
});
let handedOver = false;
process.on("SIGUSR1", async () => {
  // planned handover of ONE member (option `handover`, default the first); the group takes the others along.
  // A second SIGUSR1 resumes it.
  const name = opts.handover ?? opts.instances[0].name;
  const inst = instances.find((i) => i.id === name);
  if (handedOver) {
    handedOver = false;
    inst.resume();
    log({ event: "resumed", instance: name });
    return;
  }
  handedOver = true;
  try {
    const r = await inst.handover();
    log({ event: "handover-done", instance: name, master: r.master });
  } catch (e) {
    log({ event: "handover-failed", instance: name, message: e.message });
  }
});
process.on("SIGUSR2", () => {
  const name = opts.signalFault ?? opts.instances[0].name;
  const flip = flips.get(name);
  flip.fault = !flip.fault;
  log({ event: "flip", instance: name, fault: flip.fault });
  flip.emit("change");
});

await Promise.all(instances.map((i) => i.start()));
log({ event: "started", states: instances.map((i) => `${i.name}:${i.state}`) });
