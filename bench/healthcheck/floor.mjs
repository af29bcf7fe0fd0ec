// The floor under any Node.js checker: the same schedule (TARGETS connections spread over every INTER ms,
// started in 10 ms ticks) done with bare `net.connect` and nothing else — no scheduler, no rise/fall, no
// timeouts, no events. tcp: connect, then destroy; http: connect, write one request, read to the end, destroy.
// Usage (spawned by run.mjs): node floor.mjs <http|tcp> <targets> <inter> <ports JSON>
import net from "node:net";

const [kind, targetsArg, interArg, portsJson] = process.argv.slice(2);
const TARGETS = Number(targetsArg);
const INTER = Number(interArg);
const ports = JSON.parse(portsJson);
const request = Buffer.from("GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n", "latin1");
const CONCURRENCY = 2000; // as the lbkit checker's: connections past it wait (and fds stay bounded)
let next = 0;
let owed = 0;
let inFlight = 0;
let last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  owed += ((now - last) * TARGETS) / INTER; // by elapsed time, so a late tick does not lower the rate
  last = now;
  owed = Math.min(owed, TARGETS); // never more than one interval's worth behind
  for (; owed >= 1 && inFlight < CONCURRENCY; owed--) {
    const port = ports[next++ % ports.length];
    const s = net.connect({ host: "127.0.0.1", port });
    inFlight++;
    s.once("close", () => inFlight--);
    s.on("error", () => s.destroy());
    if (kind === "tcp") s.once("connect", () => s.destroy());
    else {
      s.once("connect", () => s.write(request));
      s.on("data", () => {});
      s.once("end", () => s.destroy());
    }
  }
}, 10);
process.on("message", (m) => {
  if (m === "mark") process.send({ marked: true });
  else if (m === "report")
    process.send({ lastDurations: [], failed: 0, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) });
  else if (m === "stop") {
    clearInterval(timer);
    process.exit(0);
  }
});
process.send({ ready: true });
