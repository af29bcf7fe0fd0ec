// node-http-proxy (npm `http-proxy`) as a bench and corpus peer, with a keep-alive upstream agent.
// Usage: node http-proxy.mjs --listen host:port --backend host:port [--idle-timeout s]
import http from "node:http";
import httpProxy from "http-proxy";
import { backend, idleMs as idle, listen } from "./args.mjs";

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
const proxy = httpProxy.createProxyServer({ target: `http://${backend}`, agent, xfwd: false });
proxy.on("error", (_err, _req, res) => {
  if (res.writeHead && !res.headersSent) res.writeHead(502).end();
  else res.destroy?.();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = idle;
server.headersTimeout = idle + 1000;
server.requestTimeout = 0;
server.listen(listen.port, listen.host, () => console.log("listening"));
process.on("SIGTERM", () => process.exit(0));
