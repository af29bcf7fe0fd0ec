// A client for the kernel-lb suites. Opens --count TCP connections (or sends UDP datagrams) to --host:--port, each
// reading the real server's name, --concurrency at a time; or, with --duration, keeps opening connections for that
// long. Prints one JSON line: { counts: {name: n}, failures, errors: [first few] }. Bounded in count and time.
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string", default: "80" },
    count: { type: "string", default: "100" },
    concurrency: { type: "string", default: "8" },
    duration: { type: "string" },
    udp: { type: "boolean", default: false },
    timeout: { type: "string", default: "2000" },
    hold: { type: "string" },
  },
});
const host = values.host;
const port = Number(values.port);
const timeout = Number(values.timeout);
const counts = {};
let failures = 0;
const errors = [];

function once() {
  return new Promise((resolve) => {
    const done = (name, err) => {
      if (name) counts[name] = (counts[name] ?? 0) + 1;
      else {
        failures++;
        if (errors.length < 5) errors.push(String(err));
      }
      resolve();
    };
    if (values.udp) {
      const s = createSocket("udp4");
      const t = setTimeout(() => {
        s.close();
        done(undefined, "udp timeout");
      }, timeout);
      s.on("message", (m) => {
        clearTimeout(t);
        s.close();
        done(String(m));
      });
      s.send("hi", port, host);
      return;
    }
    const sock = connect({ host, port });
    sock.setTimeout(timeout, () => sock.destroy(new Error("timeout")));
    let buf = "";
    let finished = false;
    sock.on("data", (d) => {
      buf += d;
      const i = buf.indexOf("\n");
      if (i >= 0 && !finished) {
        finished = true;
        sock.end();
        done(buf.slice(0, i));
      }
    });
    sock.on("error", (e) => {
      if (!finished) {
        finished = true;
        done(undefined, e.code ?? e.message);
      }
    });
    sock.on("close", () => {
      if (!finished) {
        finished = true;
        done(undefined, "closed before a reply");
      }
    });
  });
}

if (values.hold) {
  // one long-lived connection: a line every 100 ms for --hold ms; prints who answered and how many echoes came back
  const sock = connect({ host, port });
  let buf = "";
  let name;
  let sent = 0;
  let echoed = 0;
  const bad = [];
  sock.on("data", (d) => {
    buf += d;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (name === undefined) {
        name = line;
        console.log(JSON.stringify({ connected: name }));
      } else if (line === `${name} ping${echoed}`) echoed++;
      else bad.push(line);
    }
  });
  sock.on("error", (e) => bad.push(`error ${e.code ?? e.message}`));
  const end = Date.now() + Number(values.hold);
  while (Date.now() < end && !sock.destroyed) {
    if (name !== undefined) sock.write(`ping${sent++}\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  sock.destroy();
  console.log(JSON.stringify({ name, sent, echoed, bad }));
  process.exit(0);
}

const deadline = values.duration ? Date.now() + Number(values.duration) : Number.POSITIVE_INFINITY;
let remaining = values.duration ? 1_000_000 : Number(values.count);
process.on("SIGTERM", () => {
  remaining = 0; // finish the flows in progress, then report
});
async function worker() {
  while (remaining > 0 && Date.now() < deadline) {
    remaining--;
    await once();
  }
}
await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
console.log(JSON.stringify({ counts, failures, errors }));
