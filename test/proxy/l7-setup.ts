// Shared setup for the L7 suites: a proxy over HTTP origins, an HTTP client without agent, raw exchanges.
import http from "node:http";
import type net from "node:net";
import { type BackendOptions, type FrontendOptions, ReverseProxy, type TransactionLog } from "@lbkit/proxy";
import { afterEach } from "vitest";
import { connect, readAll } from "./helpers.js";
import { type HttpOrigin, httpOrigin } from "./origin-http.js";

export const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

export async function origins(...ids: string[]): Promise<HttpOrigin[]> {
  const out: HttpOrigin[] = [];
  for (const id of ids) {
    const o = await httpOrigin(id);
    cleanups.push(() => o.close());
    out.push(o);
  }
  return out;
}

export async function l7(
  backends: BackendOptions[],
  front: Partial<FrontendOptions> = {},
): Promise<{ p: ReverseProxy; port: number; logs: TransactionLog[] }> {
  const p = new ReverseProxy({
    frontends: [{ id: "fe", bind: "127.0.0.1:0", defaultBackend: backends[0]?.id, ...front }],
    backends,
  });
  const logs: TransactionLog[] = [];
  p.on("request", (l) => logs.push(l));
  await p.start();
  cleanups.push(() => p.stop());
  return { p, port: (p.addresses()[0] as net.AddressInfo).port, logs };
}

export const server = (o: HttpOrigin, extra: object = {}) => ({
  id: o.id,
  address: "127.0.0.1",
  port: o.port,
  ...extra,
});

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(
  port: number,
  opts: http.RequestOptions & { body?: string | Buffer } = {},
  agent?: http.Agent,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, agent: agent ?? false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: String(Buffer.concat(chunks)) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

export async function raw(port: number, text: string | Buffer): Promise<string> {
  const c = await connect(port);
  const all = readAll(c);
  c.write(text);
  return String(await all);
}
