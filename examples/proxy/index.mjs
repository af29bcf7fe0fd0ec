#!/usr/bin/env node
// A minimal @lbkit/proxy from the command line, for benchmarks and quick trials:
//
//   frontend fe
//     bind <listen>
//     mode http|tcp
//     default_backend be
//   backend be
//     balance roundrobin
//     server s1 <backend1>
//     server s2 <backend2> ...
//
//   pnpm build && node examples/proxy/index.mjs --listen 127.0.0.1:8080 --backend 127.0.0.1:9001,127.0.0.1:9002 --mode http
//
// Options: --balance <algorithm> (default roundrobin), --workers <n> (node:cluster, workers share the listener),
// --check (TCP health checks every 2 s), --tag-worker (http: adds `X-Proxy-Worker: <pid>` to forwarded requests). Prints "listening <host:port>" when ready; SIGINT/SIGTERM stop it
// gracefully.
// Operators (issue 12): --stats (http: the stats page at <listen>/web-status, plus an AdminServer on 127.0.0.1 with
// /metrics, /stats and the runtime API; its port is printed as "admin <host:port>", its token read from
// $LBKIT_ADMIN_TOKEN, default "change-me-please"), --log (access log as JSON lines, batched, to --log-file, default
// /dev/null — the bench's "stats, metrics and access log on" row uses --stats --log).
// TLS termination (http): --tls-cert/--tls-key PEM files, --tls-min TLSv1.2|TLSv1.3, --tls-ciphers LIST, --h2 (ALPN
// h2 and http/1.1) — the bench's TLS and HTTP/2 rows.
import cluster from "node:cluster";
import { createWriteStream, readFileSync } from "node:fs";
import { AccessLog, AdminServer, ReverseProxy } from "@lbkit/proxy";
import { cli } from "../cli.mjs";

const values = cli(
  `
usage: node examples/proxy/index.mjs --backend HOST:PORT[,HOST:PORT…] [options]
A minimal @lbkit/proxy from the command line (one frontend, one backend), for benchmarks and quick trials.
Prints "listening HOST:PORT" when ready; SIGINT/SIGTERM stop it gracefully.
  --listen HOST:PORT   where to listen (default 127.0.0.1:8080)
  --backend LIST       the servers, comma-separated (required)
  --mode http|tcp      L7 HTTP/1.1 or L4 TCP (default http)
  --balance ALGORITHM  any @lbkit/balancer algorithm (default roundrobin)
  --workers N          N processes sharing the listener (node:cluster)
  --check              TCP health checks every 2 s
  --tag-worker         http: add X-Proxy-Worker: <pid> to forwarded requests
  --stats              http: stats page at <listen>/web-status, and an admin server (metrics, runtime API)
  --log                access log as JSON lines, batched, to --log-file (default /dev/null)
  --log-file PATH      where --log writes
  --tls-cert PATH      http: terminate TLS with this certificate (PEM; needs --tls-key)
  --tls-key PATH       its private key (PEM)
  --tls-min VERSION    TLSv1.2 (default) or TLSv1.3
  --tls-ciphers LIST   OpenSSL cipher list (TLS 1.3 suites included), default lbkit's modern list
  --h2                 offer HTTP/2 (ALPN h2, http/1.1) on the TLS listener
  -h, --help           this text`,
  {
    listen: { type: "string", default: "127.0.0.1:8080" },
    backend: { type: "string" },
    mode: { type: "string", default: "http" },
    balance: { type: "string", default: "roundrobin" },
    workers: { type: "string", default: "1" },
    check: { type: "boolean", default: false },
    "tag-worker": { type: "boolean", default: false },
    stats: { type: "boolean", default: false },
    log: { type: "boolean", default: false },
    "log-file": { type: "string", default: "/dev/null" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "tls-min": { type: "string", default: "TLSv1.2" },
    "tls-ciphers": { type: "string" },
    h2: { type: "boolean", default: false },
  },
);
if (!values.backend) {
  console.error("usage: index.mjs --listen host:port --backend host:port[,host:port] [--mode http|tcp]");
  process.exit(2);
}
const workers = Number(values.workers);

if (workers > 1 && cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork();
    w.on("message", (m) => {
      if (m === "listening" && ++ready === workers) console.log(`listening ${values.listen}`);
    });
  }
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} else {
  const servers = values.backend.split(",").map((hp, i) => {
    const at = hp.lastIndexOf(":");
    return {
      id: `s${i + 1}`,
      address: hp.slice(0, at).replace(/^\[|\]$/g, ""),
      port: Number(hp.slice(at + 1)),
      check: values.check,
    };
  });
  const proxy = new ReverseProxy({
    frontends: [
      {
        id: "fe",
        mode: values.mode,
        bind: values.listen,
        defaultBackend: "be",
        ...(values["tag-worker"]
          ? { httpRequest: [{ setHeader: "X-Proxy-Worker", value: String(process.pid) }] }
          : {}),
        ...(values.stats && values.mode === "http" ? { stats: { uri: "/web-status" } } : {}),
        ...(values["tls-cert"]
          ? {
              tls: {
                certificates: [
                  {
                    cert: readFileSync(values["tls-cert"], "utf8"),
                    key: readFileSync(values["tls-key"] ?? values["tls-cert"], "utf8"),
                  },
                ],
                minVersion: values["tls-min"],
                ...(values["tls-ciphers"] ? { ciphers: values["tls-ciphers"] } : {}),
                alpn: values.h2 ? ["h2", "http/1.1"] : ["http/1.1"],
              },
            }
          : {}),
      },
    ],
    backends: [{ id: "be", mode: values.mode, balance: values.balance, servers }],
  });
  proxy.on("error", (e) => console.error(e.message));
  const extras = [];
  if (values.stats) {
    const admin = new AdminServer({
      proxy,
      auth: { tokens: { ops: process.env.LBKIT_ADMIN_TOKEN ?? "change-me-please" } },
      ...(proxy.stats ? { stats: proxy.stats } : {}),
    });
    admin.on("error", (e) => console.error(e.message));
    extras.push(admin);
  }
  let logStream;
  if (values.log) {
    logStream = createWriteStream(values["log-file"], { flags: "a" });
    const log = new AccessLog({ proxy, to: logStream });
    log.on("error", (e) => console.error(e.message));
    extras.push(log);
  }
  await proxy.start();
  for (const x of extras) await x.start();
  if (values.stats && !cluster.isWorker) {
    const a = extras[0].address();
    console.log(`admin ${a.address}:${a.port}`);
  }
  if (cluster.isWorker) process.send?.("listening");
  else console.log(`listening ${values.listen}`);
  const stop = async () => {
    for (const x of extras) await x.stop();
    await proxy.stop();
    logStream?.end();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
