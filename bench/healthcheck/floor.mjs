// The floor under any Node.js checker: the same schedule (TARGETS connections spread over every INTER ms,
// started in 10 ms ticks) done with nothing else — no scheduler, no rise/fall, no timeouts, no events.
// tcp: connect, then close; http: connect, write one request, read to the end, close.
// TRANSPORT net (peer node-floor): bare `net.connect`, a net.Socket per connection.
// TRANSPORT wrap (peer node-wrap): libuv's TCP handle as net.js itself drives it (tcp_wrap's TCP +
// TCPConnectWrap, stream_wrap's WriteWrap and onread), no stream objects: what a lean Node.js checker pays.
// Usage (spawned by run.mjs): node floor.mjs <http|tcp> <targets> <inter> <ports JSON> [net|wrap]
import net from "node:net";

const [kind, targetsArg, interArg, portsJson, transport = "net"] = process.argv.slice(2);
const TARGETS = Number(targetsArg);
const INTER = Number(interArg);
const ports = JSON.parse(portsJson);
const text = "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";
const request = Buffer.from(text, "latin1");
const CONCURRENCY = 2000; // as the lbkit checker's: connections past it wait (and fds stay bounded)
let next = 0;
let owed = 0;
let inFlight = 0;
let last = performance.now();

function viaNet(port) {
  const s = net.connect({ host: "127.0.0.1", port });
  s.once("close", () => inFlight--);
  s.on("error", () => s.destroy());
  if (kind === "tcp") s.once("connect", () => s.destroy());
  else {
    s.once("connect", () => s.write(request));
    s.on("data", () => {});
    s.once("end", () => s.destroy());
  }
}

const wrap = transport === "wrap" ? lean() : undefined;
function lean() {
  const { TCP, TCPConnectWrap, constants } = process.binding("tcp_wrap");
  const { WriteWrap, streamBaseState, kReadBytesOrError } = process.binding("stream_wrap");
  const closed = () => inFlight--;
  const noop = () => {};
  function onread() {
    if (streamBaseState[kReadBytesOrError] >= 0) return; // data (ignored) or nothing; < 0: EOF or error
    this.close(closed);
  }
  function onconnect(status, handle) {
    if (status < 0 || kind === "tcp") return handle.close(closed);
    const w = new WriteWrap();
    w.handle = handle;
    w.oncomplete = noop;
    w.async = false;
    if (handle.writeLatin1String(w, text) < 0) return handle.close(closed);
    handle.onread = onread;
    handle.readStart();
  }
  return (port) => {
    const h = new TCP(constants.SOCKET);
    const req = new TCPConnectWrap();
    req.oncomplete = onconnect;
    if (h.connect(req, "127.0.0.1", port) < 0) h.close(closed);
  };
}

const timer = setInterval(() => {
  const now = performance.now();
  owed += ((now - last) * TARGETS) / INTER; // by elapsed time, so a late tick does not lower the rate
  last = now;
  owed = Math.min(owed, TARGETS); // never more than one interval's worth behind
  for (; owed >= 1 && inFlight < CONCURRENCY; owed--) {
    const port = ports[next++ % ports.length];
    inFlight++;
    if (wrap) wrap(port);
    else viaNet(port);
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
