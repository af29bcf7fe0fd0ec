// The load balancer node of examples/mysql-read, run inside its own network namespace by index.mjs:
// the guides' `listen mysql-cluster / mode tcp / balance leastconn / option mysql-check user haproxy`, in lbkit.
// Prints JSON lines: {ev:"listening"}, {ev:"change", id, from, to, reason} and {ev:"session", server,
// termination}; stops on SIGTERM.
import { mysqlCheck } from "@lbkit/healthcheck";
import { ReverseProxy } from "@lbkit/proxy";
import { cli } from "../cli.mjs";

const USAGE = `
usage: node examples/mysql-read/lb.mjs --config <json>
The load balancer of examples/mysql-read (started by index.mjs in its namespace): TCP, leastconn, mysqlCheck.
  --config json  { "bind": "host:port", "servers": [{ "id", "address" }], "inter", "rise", "fall" }
  -h, --help     this text`;
const args = cli(USAGE, { config: { type: "string" } });
let cfg;
try {
  cfg = JSON.parse(args.config ?? "");
} catch {
  console.error(`mysql-read lb: --config must be JSON\n${USAGE}`);
  process.exit(2);
}
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const proxy = new ReverseProxy({
  frontends: [{ id: "mysql-cluster", mode: "tcp", bind: cfg.bind, defaultBackend: "db" }],
  backends: [
    {
      id: "db",
      mode: "tcp",
      balance: "leastconn",
      healthCheck: {
        inter: cfg.inter,
        rise: cfg.rise,
        fall: cfg.fall,
        check: (s) => mysqlCheck({ host: s.address, port: s.port, user: "haproxy" }),
      },
      retries: 2,
      redispatch: 1, // a refused connection is retried on another server at once
      timeouts: { connect: 1000 },
      servers: cfg.servers.map((s) => ({ id: s.id, address: s.address, port: 3306, check: true })),
    },
  ],
});
proxy.on("change", (e) => say({ ev: "change", id: e.id, from: e.from, to: e.to, reason: e.reason }));
proxy.on("session", (s) => say({ ev: "session", server: s.server, termination: s.termination }));
proxy.on("error", (err) => say({ ev: "error", message: err.message }));
await proxy.start();
say({ ev: "listening" });
process.on("SIGTERM", async () => {
  await proxy.stop();
  process.exit(0);
});
