// The client for test/bgp-*: one request per new TCP connection to http://VIP/, `rate` per second for `ms`
// (bounded), each from a chosen source port when `ports` is given (a fixed flow, to watch where ECMP sends it).
// Prints one JSON line: every request's {t, port, ok, balancer, server, error}.
import http from "node:http";

const { vip, ms = 3000, rate = 50, ports, timeout = 2000 } = JSON.parse(process.argv[2] ?? "{}");
const results = [];
const one = (localPort) =>
  new Promise((resolve) => {
    const t = Date.now();
    const req = http.get({ host: vip, port: 80, path: "/", agent: false, localPort, timeout }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        const ok = res.statusCode === 200;
        resolve({
          t,
          port: localPort,
          ok,
          ...(ok ? JSON.parse(body) : { error: `status ${res.statusCode}` }),
        });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ t, port: localPort, ok: false, error: e.code ?? e.message }));
  });
if (ports) {
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
