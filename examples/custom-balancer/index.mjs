// A user-written balancing algorithm plugged into a proxy: "power of two choices" (pick two servers at random,
// send to the one with fewer requests in flight). Three local web servers, one @lbkit/proxy, 60 requests.
// Loopback only, no root; about 1 s.   node examples/custom-balancer/index.mjs [--help]
import { createServer, get } from "node:http";
import { ReverseProxy } from "@lbkit/proxy";
import { cli } from "../cli.mjs";

cli(`
usage: node examples/custom-balancer/index.mjs

A power-of-two-choices algorithm (~15 lines) as a @lbkit/balancer AlgorithmFactory, used by a
@lbkit/proxy backend over three local servers; prints how 60 requests were spread.
  -h, --help   this text`);

// ── the algorithm: an AlgorithmFactory is { name, create() → { add, remove, pick } } ──
const twoChoices = {
  name: "two-choices",
  create: () => {
    const servers = []; // the pool hands us only usable servers and tells us of every change
    const any = () => servers[Math.floor(Math.random() * servers.length)];
    return {
      name: "two-choices",
      add: (s) => void servers.push(s),
      remove: (s) => void servers.splice(servers.indexOf(s), 1),
      pick: () => {
        const a = any();
        const b = any();
        return a && b && b.inFlight < a.inFlight ? b : a;
      },
    };
  },
};

// ── three web servers and a proxy using the algorithm ──
const webs = await Promise.all(
  ["a", "b", "c"].map(
    (id) =>
      new Promise((resolve) => {
        const s = createServer((_req, res) => setTimeout(() => res.end(id), id === "c" ? 30 : 5)); // c is slow
        s.listen(0, "127.0.0.1", () => resolve({ id, server: s, port: s.address().port }));
      }),
  ),
);
const proxy = new ReverseProxy({
  frontends: [{ id: "www", bind: "127.0.0.1:0", mode: "http", defaultBackend: "web" }],
  backends: [
    {
      id: "web",
      balance: twoChoices,
      servers: webs.map((w) => ({ id: w.id, address: "127.0.0.1", port: w.port })),
    },
  ],
});
await proxy.start();
const { port } = proxy.addresses("www")[0];
const fetchOne = () =>
  new Promise((resolve, reject) =>
    get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d)).on("end", () => resolve(body));
    }).on("error", reject),
  );
const counts = {};
for (
  let round = 0;
  round < 6;
  round++ // 6 rounds of 10 concurrent requests
)
  for (const who of await Promise.all(Array.from({ length: 10 }, fetchOne)))
    counts[who] = (counts[who] ?? 0) + 1;
console.log(`balance two-choices over a, b, c (c is 6× slower): ${JSON.stringify(counts)}`);
await proxy.stop();
for (const w of webs) w.server.close();
