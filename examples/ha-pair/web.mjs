// One web server of the ha-pair demo: answers /index.html (GET and HEAD) with its own name, like the guide's
// three Apache servers. Prints "listening <name>" when ready.
//   node web.mjs --name web1 --host 198.18.0.21 --port 80
import { createServer } from "node:http";
import { cli } from "../cli.mjs";

const o = cli(
  `
usage: node examples/ha-pair/web.mjs [--name NAME] [--host ADDR] [--port N]
One web server of the ha-pair demo: answers /index.html (GET and HEAD) with its own name. Prints "listening <name>".
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
const server = createServer((req, res) => {
  res.setHeader("X-Served-By", o.name);
  res.setHeader("X-Proxy-Address", req.socket.remoteAddress ?? ""); // which load balancer forwarded it
  res.setHeader("Content-Type", "text/plain");
  res.end(`${o.name} (client ${req.headers["x-forwarded-for"] ?? req.socket.remoteAddress})\n`);
});
server.keepAliveTimeout = 2000;
server.listen(Number(o.port), o.host, () => console.log(`listening ${o.name}`));
const stop = () => server.close(() => process.exit(0)) && server.closeAllConnections();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
