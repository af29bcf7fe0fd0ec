// Loopback backends for the health-check bench, run in their own process so the checker's CPU share is
// measured alone. Listens on PORTS consecutive ephemeral ports on 127.0.0.1 and prints them as JSON.
import http from "node:http";

const count = Number(process.argv[2] ?? 100);
const ports = [];
for (let i = 0; i < count; i++) {
  const srv = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain", connection: "close" });
    res.end("ok");
  });
  srv.keepAliveTimeout = 0;
  await new Promise((r) => srv.listen(0, "127.0.0.1", 4096, r));
  ports.push(srv.address().port);
}
process.stdout.write(`${JSON.stringify({ ports })}\n`);
process.on("SIGTERM", () => process.exit(0));
process.on("disconnect", () => process.exit(0));
