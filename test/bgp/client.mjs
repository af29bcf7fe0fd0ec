// The client for test/bgp-*: one request per new TCP connection to http://VIP/, `rate` per second for `ms`
// (bounded), each from a chosen source port when `ports` is given (a fixed flow, to watch where ECMP sends it).
// With `hold: true`, each port in `ports` is one keep-alive connection sending a request every `every` ms for `ms`
// (a reset connection is re-opened from the same port). A request from a chosen port carries X-Flow: <port>, the
// key the balancers' Maglev uses. Prints one JSON line: every request's {t, port, ok, balancer (the response's
// X-Balancer), server (the body: the web server's id), error}.
import http from "node:http";

const {
  vip,
  ms = 3000,
  rate = 50,
  ports,
  timeout = 2000,
  hold = false,
  every = 50,
} = JSON.parse(process.argv[2] ?? "{}");
const results = [];
const one = (localPort, agent = false) =>
  new Promise((resolve) => {
    const t = Date.now();
    // a chosen port is a flow the balancers key Maglev on (X-Flow), whichever balancer ECMP sends it to
    const headers = localPort === undefined ? {} : { "X-Flow": String(localPort) };
    const req = http.get({ host: vip, port: 80, path: "/", agent, localPort, timeout, headers }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        const ok = res.statusCode === 200;
        const balancer = res.headers["x-balancer"];
        resolve({
          t,
          port: localPort,
          ok,
          balancer,
          ...(ok ? { server: body } : { error: `status ${res.statusCode}` }),
        });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ t, port: localPort, ok: false, error: e.code ?? e.message }));
  });
if (hold) {
  const end = Date.now() + ms;
  await Promise.all(
    ports.map(async (p) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (Date.now() < end) {
        results.push(await one(p, agent));
        await new Promise((r) => setTimeout(r, every));
      }
      agent.destroy();
    }),
  );
} else if (ports) {
  for (const p of ports) results.push(await one(p));
} else {
  const pending = [];
  const end = Date.now() + ms;
  const gap = 1000 / rate;
  while (Date.now() < end && pending.length < rate * (ms / 1000) + 1) {
    pending.push(one(undefined).then((r) => results.push(r)));
    await new Promise((r) => setTimeout(r, gap));
  }
  await Promise.all(pending);
}
process.stdout.write(`${JSON.stringify(results)}\n`);
