// A real server for the kernel-lb suites: TCP and UDP on --port; each TCP connection first gets "<name>\n", then
// every line it sends comes back as "<name> <line>\n"; each UDP datagram is answered with "<name>".
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { name: { type: "string" }, port: { type: "string", default: "80" } },
});
const name = values.name;
const port = Number(values.port);
const tcp = createServer((sock) => {
  sock.on("error", () => {});
  sock.write(`${name}\n`);
  let buf = "";
  sock.on("data", (d) => {
    buf += d;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      sock.write(`${name} ${buf.slice(0, i)}\n`);
      buf = buf.slice(i + 1);
    }
  });
});
const udp = createSocket("udp4");
udp.on("message", (_msg, rinfo) => udp.send(name, rinfo.port, rinfo.address));
tcp.listen(port, "0.0.0.0", () => udp.bind(port, "0.0.0.0", () => console.log(`listening ${name} ${port}`)));
