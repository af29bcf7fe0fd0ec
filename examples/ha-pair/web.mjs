// One web server of the ha-pair demo: answers /index.html (GET and HEAD) with its own name, like the guide's
// three Apache servers. Prints "listening <name>" when ready. Each response says who answered (X-Served-By),
// which load balancer forwarded the request (X-Proxy-Address) and when the request arrived (X-Received-At, ms).
// "fail-check" on stdin makes /index.html (the proxies' health check) answer 503 while every other path still
// answers: an operator taking the server out of rotation through its check; "pass-check" undoes it.
//   node web.mjs --name web1 --host 198.18.0.21 --port 80
import { createServer } from "node:http";
import { cli } from "../cli.mjs";

const o = cli(
  `
usage: node examples/ha-pair/web.mjs [--name NAME] [--host ADDR] [--port N]
One web server of the ha-pair demo: answers /index.html (GET and HEAD) with its own name. Prints "listening <name>".
"fail-check" on stdin: /index.html (the health check) answers 503, other paths still 200; "pass-check" undoes it.
  --name NAME      its name (default web)
  --host ADDR      address to listen on (default 0.0.0.0)
  --port N         port (default 80)
  -h, --help       this text`,
  {
    name: { type: "string", default: "web" },
    host: { type: "string", default: "0.0.0.0" },
    port: { type: "string", default: "80" },
  },
);
let failCheck = false;
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  for (const cmd of chunk.split("\n").map((s) => s.trim())) {
    if (cmd === "fail-check") failCheck = true;
    else if (cmd === "pass-check") failCheck = false;
  }
});
const server = createServer((req, res) => {
  res.setHeader("X-Received-At", String(Date.now()));
  res.setHeader("X-Served-By", o.name);
  res.setHeader("X-Proxy-Address", req.socket.remoteAddress ?? ""); // which load balancer forwarded it
  res.setHeader("Content-Type", "text/plain");
  if (failCheck && req.url === "/index.html") {
    res.statusCode = 503;
    return void res.end(`${o.name}: out of rotation\n`);
  }
  res.end(`${o.name} (client ${req.headers["x-forwarded-for"] ?? req.socket.remoteAddress})\n`);
});
server.keepAliveTimeout = 2000;
server.listen(Number(o.port), o.host, () => console.log(`listening ${o.name}`));
const stop = () => server.close(() => process.exit(0)) && server.closeAllConnections();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
