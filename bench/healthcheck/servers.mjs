// Loopback backends for the health-check bench, run in their own process so that each checker's CPU is
// measured alone. Listens on COUNT ephemeral ports on 127.0.0.1 and prints them as JSON; counts accepted
// connections (what both checkers are counted by) and answers `{ accepts }` to an IPC "count" message.
// MODE http: answers every request with 200 "ok" and closes; MODE tcp: accepts and closes.
import http from "node:http";
import net from "node:net";

const count = Number(process.argv[2] ?? 100);
const mode = process.argv[3] ?? "http";
const ports = [];
let accepts = 0;
for (let i = 0; i < count; i++) {
  const srv =
    mode === "tcp"
      ? net.createServer((s) => {
          s.on("error", () => {});
          s.destroy();
        })
      : http.createServer((_req, res) => {
          res.writeHead(200, { "content-type": "text/plain", connection: "close" });
          res.end("ok");
        });
  srv.on("connection", () => accepts++);
  await new Promise((r) => srv.listen(0, "127.0.0.1", 4096, r));
  ports.push(srv.address().port);
}
process.stdout.write(`${JSON.stringify({ ports })}\n`);
process.on("message", (m) => {
  if (m === "count") process.send({ accepts });
});
process.on("SIGTERM", () => process.exit(0));
process.on("disconnect", () => process.exit(0));
