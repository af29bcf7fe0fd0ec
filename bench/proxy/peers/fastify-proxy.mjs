// @fastify/http-proxy (undici upstream pool) as a bench and corpus peer.
// Usage: node fastify-proxy.mjs --listen host:port --backend host:port [--idle-timeout s]
import proxy from "@fastify/http-proxy";
import Fastify from "fastify";
import { backend, idleMs as idle, listen } from "./args.mjs";

const app = Fastify({ logger: false, keepAliveTimeout: idle, bodyLimit: 2 ** 31 - 1 });
await app.register(proxy, { upstream: `http://${backend}` });
await app.listen(listen);
console.log("listening");
process.on("SIGTERM", () => process.exit(0));
