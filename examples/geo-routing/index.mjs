// nginx's `geo` idea with @lbkit/proxy: the client's address, looked up in a CIDR map (longest prefix wins),
// chooses a regional backend; anything else goes to the default. Loopback only, no root; about 1 s: clients
// bind 127.0.1.x ("eu"), 127.0.2.x ("us"), 127.0.2.128/25 (a more specific "us-west") and 127.0.0.1 (default).
//   node examples/geo-routing/index.mjs [--help]
import { createServer, get } from "node:http";
import { ReverseProxy } from "@lbkit/proxy";
import { cli } from "../cli.mjs";

cli(`
usage: node examples/geo-routing/index.mjs

Routes by client CIDR (a geo map, longest prefix wins) to regional backends with a default,
all on loopback; prints which region answered each client address.
  -h, --help   this text`);

const GEO = {
  "127.0.1.0/24": "eu",
  "127.0.2.0/24": "us",
  "127.0.2.128/25": "us-west",
};
const regions = ["eu", "us", "us-west", "default"];
const origins = await Promise.all(
  regions.map(
    (region) =>
      new Promise((resolve) => {
        const s = createServer((req, res) =>
          res.end(`${region} (X-Forwarded-For ${req.headers["x-forwarded-for"]})`),
        );
        s.listen(0, "127.0.0.1", () => resolve({ region, server: s, port: s.address().port }));
      }),
  ),
);
const proxy = new ReverseProxy({
  frontends: [
    {
      id: "www",
      bind: "127.0.0.1:0",
      mode: "http",
      rules: [{ geo: GEO }],
      defaultBackend: "default",
      forwardFor: true,
    },
  ],
  backends: origins.map((o) => ({
    id: o.region,
    balance: "roundrobin",
    servers: [{ id: `${o.region}1`, address: "127.0.0.1", port: o.port }],
  })),
});
await proxy.start();
const { port } = proxy.addresses("www")[0];
const ask = (localAddress) =>
  new Promise((resolve, reject) =>
    get({ host: "127.0.0.1", port, path: "/", localAddress, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d)).on("end", () => resolve(body));
    }).on("error", reject),
  );
console.log("geo map:", JSON.stringify(GEO), "default → default");
for (const client of ["127.0.1.7", "127.0.2.7", "127.0.2.200", "127.0.0.1"])
  console.log(`client ${client.padEnd(12)} → ${await ask(client)}`);
await proxy.stop();
for (const o of origins) o.server.close();
