// The lbkit side of the health-check bench: a HealthChecker with TARGETS targets spread over the backend's
// ports, in its own process (so its CPU is read from /proc like HAProxy's). On IPC "mark" it starts measuring
// the event-loop delay; on "report" it answers with that and the last check duration of every target.
// Usage (spawned by run.mjs): node checker.mjs <http|tcp> <targets> <inter> <ports JSON>
// HC_LIB=/abs/path/index.js runs another build of @lbkit/healthcheck (e.g. an older commit's) for comparison.
import { monitorEventLoopDelay } from "node:perf_hooks";

const { HealthChecker, httpCheck, tcpCheck } = await import(process.env.HC_LIB ?? "@lbkit/healthcheck");

const [kind, targetsArg, interArg, portsJson] = process.argv.slice(2);
const TARGETS = Number(targetsArg);
const INTER = Number(interArg);
const ports = JSON.parse(portsJson);
const hc = new HealthChecker({
  concurrency: 2000,
  ...(process.env.HC_TICK ? { tick: Number(process.env.HC_TICK) } : {}),
});
const last = new Float64Array(TARGETS);
let failed = 0;
hc.on("check", (e) => {
  last[Number(e.id.slice(1))] = e.duration;
  if (e.result.status === "down") failed++;
});
for (let i = 0; i < TARGETS; i++) {
  const port = ports[i % ports.length];
  const check =
    kind === "tcp"
      ? tcpCheck({ host: "127.0.0.1", port })
      : httpCheck({ host: "127.0.0.1", port, path: `/health/${i}` });
  hc.add({ id: `t${i}`, check, inter: INTER, timeout: INTER, rise: 2, fall: 3, initState: "fully-up" });
}
await hc.start();
// 20 ms sampling: a 1 ms sampler alone costs the checker 1,000 wakeups a second, which HAProxy does not pay
const ELD_RESOLUTION_MS = 20;
const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
let failed0 = 0;
process.on("message", async (m) => {
  if (m === "mark") {
    eld.enable();
    failed0 = failed;
    process.send({ marked: true });
  } else if (m === "report") {
    eld.disable();
    // the histogram records the whole sampling period; subtract it to get the delay
    const ms = (ns) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);
    process.send({
      eventLoopDelayMs: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) },
      lastDurations: [...last],
      failed: failed - failed0,
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    });
  } else if (m === "stop") {
    await hc.stop();
    process.exit(0);
  }
});
process.send({ ready: true });
