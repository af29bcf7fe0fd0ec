// A small HTTP origin for the L7 suites (node:http is fine on this side: it is the thing being proxied to).
import http from "node:http";
import type net from "node:net";

export interface HttpOrigin {
  id: string;
  port: number;
  server: http.Server;
  /** requests received */
  hits: number;
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

/**
 * Routes: `/echo` streams the request body back; `/count` answers the number of body bytes; `/big?n=` sends n
 * bytes (chunked); `/slow?ms=` answers after ms; `/never` never answers; `/kill-mid` sends half a chunked body
 * then destroys the socket; `/status?code=` answers that status; anything else: JSON describing the request.
 */
export async function httpOrigin(id: string): Promise<HttpOrigin> {
  const sockets = new Set<net.Socket>();
  const o = { id, port: 0, hits: 0, sockets } as HttpOrigin;
  const server = http.createServer((req, res) => {
    o.hits++;
    const url = new URL(req.url ?? "/", "http://x");
    res.setHeader("x-server", id);
    switch (url.pathname) {
      case "/echo":
        req.pipe(res);
        return;
      case "/count": {
        let n = 0;
        req.on("data", (d: Buffer) => {
          n += d.length;
        });
        req.on("end", () => res.end(String(n)));
        return;
      }
      case "/big": {
        let left = Number(url.searchParams.get("n"));
        const chunk = Buffer.alloc(256 * 1024, 120);
        const pump = () => {
          while (left > 0) {
            const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
            left -= c.length;
            if (!res.write(c)) return void res.once("drain", pump);
          }
          res.end();
        };
        req.resume();
        req.on("end", pump);
        return;
      }
      case "/slow":
        setTimeout(() => res.end("slow"), Number(url.searchParams.get("ms") ?? 100));
        return;
      case "/never":
        return;
      case "/kill-mid":
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("partial-");
        setTimeout(() => req.socket.destroy(), 50);
        return;
      case "/status":
        res.statusCode = Number(url.searchParams.get("code"));
        res.end();
        return;
      default:
        req.resume();
        req.on("end", () =>
          res.end(
            JSON.stringify({
              id,
              method: req.method,
              url: req.url,
              headers: req.headers,
              version: req.httpVersion,
            }),
          ),
        );
    }
  });
  server.keepAliveTimeout = 30_000;
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  o.port = (server.address() as net.AddressInfo).port;
  o.server = server;
  o.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return o;
}

/** One raw HTTP exchange over a fresh socket: writes `request`, returns everything received until close. */
export interface RawReply {
  text: string;
  status: number;
}

export function parseStatus(text: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return m ? Number(m[1]) : 0;
}
