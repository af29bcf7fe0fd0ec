// The flow handoff test's processes (test/kernel-lb-handoff.test.ts), one role per invocation:
//   server --name N            TCP :80, answers every read with "N\n" (which node's socket served it)
//   handoff --vip V --device D --grace MS
//                              a FlowHandoff; stdin "forward <peer>" / "cancel"; prints {"event":"forward",…}
//   client --vip V [--lazy]    connects to V:80 (with --lazy: on stdin "connect"), prints "connected"; on stdin
//                              "send" writes one line and prints {"reply":…} or {"error":…}
import net from "node:net";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { FlowHandoff } from "@lbkit/kernel-lb";

const { positionals, values: o } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: "string" },
    vip: { type: "string" },
    device: { type: "string", default: "eth0" },
    grace: { type: "string", default: "2000" },
    lazy: { type: "boolean", default: false },
  },
});
const say = (x) => console.log(JSON.stringify(x));
const lines = (fn) => createInterface({ input: process.stdin }).on("line", (l) => fn(l.trim()));

switch (positionals[0]) {
  case "server": {
    const server = net.createServer((s) => {
      s.on("data", () => s.write(`${o.name}\n`));
      s.on("error", () => {});
    });
    server.listen(80, () => console.log(`listening ${o.name}`));
    break;
  }
  case "handoff": {
    const h = new FlowHandoff({ vips: [o.vip], ports: [80], device: o.device, graceMs: Number(o.grace) });
    h.on("forward", (e) => say({ event: "forward", peer: e.peer ?? null }));
    h.on("error", (e) => say({ event: "error", message: e.message }));
    await h.start();
    console.log("ready");
    lines(async (l) => {
      const [cmd, arg] = l.split(" ");
      try {
        if (cmd === "forward") await h.forward(arg);
        else if (cmd === "cancel") await h.cancel();
        else if (cmd === "stop") {
          await h.stop();
          console.log("stopped");
          process.exit(0);
        }
      } catch (e) {
        say({ event: "error", message: e.message });
      }
    });
    break;
  }
  case "client": {
    let c;
    const connect = () => {
      c = net.connect({ host: o.vip, port: 80 }, () => console.log("connected"));
      c.setEncoding("utf8");
      c.on("data", (d) => say({ reply: d.trim() }));
      c.on("error", (e) => say({ error: e.code ?? e.message }));
    };
    if (!o.lazy) connect();
    else console.log("waiting");
    lines((l) => {
      if (l === "connect") connect();
      else if (l === "send") c.write("hello\n");
    });
    break;
  }
  default:
    console.error("usage: handoff.mjs server|handoff|client …");
    process.exit(2);
}
