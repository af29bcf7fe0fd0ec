// Child process for test/proxy-batch.test.ts (the built dist; loopback only).
//   dual:   one L7 proxy from the ESM build and one from the CJS build, each before its own origin; prints what
//           four concurrent requests got (they share one addon and so one batch)
//   worker: a worker thread starts an L7 proxy, serves one request through it, and exits; prints the answer and
//           the worker's exit code (the process must then exit cleanly: the addon's handles close first)
//   worker-l4: the same with an L4 proxy whose session the native relay moves (LBKIT_PROXY_RELAY=eager), still
//           open when the thread exits
import http from "node:http";
import { createRequire } from "node:module";
import net from "node:net";
import { Worker } from "node:worker_threads";

const mode = process.argv[2];
// the two builds by path: this is about them side by side (the test package does not depend on the proxy)
const ESM = new URL("../../packages/proxy/dist/index.js", import.meta.url).href;
const CJS = new URL("../../packages/proxy/dist/index.cjs", import.meta.url);

function origin(tag) {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => res.end(`${tag}:${req.url}`));
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}

async function proxy(mod, o) {
  const p = new mod.ReverseProxy({
    frontends: [{ id: "fe", bind: "127.0.0.1:0", defaultBackend: "be" }],
    backends: [{ id: "be", servers: [{ id: "s", address: "127.0.0.1", port: o.address().port }] }],
  });
  await p.start();
  return p;
}

function get(port, path) {
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let b = "";
      res.on("data", (d) => {
        b += d;
      });
      res.on("end", () => resolve(b));
    });
    req.on("error", (e) => resolve(`error ${e.message}`));
    req.setTimeout(5000, () => {
      req.destroy();
      resolve("timeout");
    });
    req.end();
  });
}

if (mode === "dual") {
  const esm = await import(ESM);
  const cjs = createRequire(import.meta.url)(CJS.pathname);
  const oa = await origin("A");
  const ob = await origin("B");
  const pa = await proxy(esm, oa);
  const pb = await proxy(cjs, ob);
  const a = pa.addresses()[0].port;
  const b = pb.addresses()[0].port;
  const got = await Promise.all([get(a, "/a1"), get(b, "/b1"), get(a, "/a2"), get(b, "/b2")]);
  console.log(JSON.stringify({ esm: esm.batchedReads().on, cjs: cjs.batchedReads().on, got }));
  await pa.stop();
  await pb.stop();
  oa.close();
  ob.close();
} else if (mode === "worker") {
  const o = await origin("W");
  const inner = `
    import { parentPort, workerData } from "node:worker_threads";
    const { ReverseProxy, batchedReads } = await import(workerData.esm);
    const p = new ReverseProxy({
      frontends: [{ id: "fe", bind: "127.0.0.1:0", defaultBackend: "be" }],
      backends: [{ id: "be", servers: [{ id: "s", address: "127.0.0.1", port: workerData.port }] }],
    });
    await p.start();
    parentPort.postMessage({ port: p.addresses()[0].port, on: batchedReads().on });
    await new Promise((r) => parentPort.once("message", r));
    process.exit(0); // with the proxy still running: its connections and the addon's handles close at teardown
  `;
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(inner)}`), {
    workerData: { port: o.address().port, esm: ESM },
  });
  const ready = await new Promise((r) => w.once("message", r));
  const body = await get(ready.port, "/w");
  w.postMessage("exit");
  const code = await new Promise((r) => w.once("exit", r));
  console.log(JSON.stringify({ on: ready.on, body, code }));
  o.close();
} else if (mode === "worker-l4") {
  const echo = net.createServer((s) => s.pipe(s));
  await new Promise((r) => echo.listen(0, "127.0.0.1", r));
  const inner = `
    import { parentPort, workerData } from "node:worker_threads";
    const { ReverseProxy, nativeRelay } = await import(workerData.esm);
    const p = new ReverseProxy({
      frontends: [{ id: "fe", mode: "tcp", bind: "127.0.0.1:0", defaultBackend: "be" }],
      backends: [{ id: "be", mode: "tcp", servers: [{ id: "s", address: "127.0.0.1", port: workerData.port }] }],
    });
    await p.start();
    parentPort.postMessage({ port: p.addresses()[0].port, relay: nativeRelay().eager });
    await new Promise((r) => parentPort.once("message", r));
    process.exit(0);
  `;
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(inner)}`), {
    workerData: { port: echo.address().port, esm: ESM },
    env: { ...process.env, LBKIT_PROXY_RELAY: "eager" },
  });
  const ready = await new Promise((r) => w.once("message", r));
  const c = net.connect(ready.port, "127.0.0.1");
  c.on("error", () => {});
  c.write("ping");
  const echoed = await new Promise((r) => c.once("data", (d) => r(d.toString())));
  w.postMessage("exit"); // the session is still open: its relay polls when the thread ends
  const code = await new Promise((r) => w.once("exit", r));
  console.log(JSON.stringify({ relay: ready.relay, echoed, code }));
  c.destroy();
  echo.close();
}
