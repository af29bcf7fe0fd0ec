// Client-side loads for the memory rows: one large body streamed through a proxy, and many idle keep-alive
// connections held open. Both bounded in time; every socket they open is destroyed before they return.
import net from "node:net";
import type { Addr } from "./configs";

/** GETs `path` once over a raw socket and discards the body; resolves with bytes received and seconds taken. */
export function streamOnce(a: Addr, path: string, expectBytes: number, timeoutMs: number) {
  return new Promise<{ bytes: number; seconds: number }>((resolve, reject) => {
    const t0 = performance.now();
    let bytes = 0;
    const c = net.connect(a.port, a.host, () =>
      c.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n`),
    );
    const timer = setTimeout(() => {
      c.destroy();
      reject(
        new Error(`bench: streaming ${path} from ${a.host}:${a.port} exceeded ${timeoutMs} ms at ${bytes} B`),
      );
    }, timeoutMs);
    c.on("data", (d) => {
      bytes += d.length;
      if (bytes >= expectBytes) c.destroy();
    });
    c.on("close", () => {
      clearTimeout(timer);
      resolve({ bytes, seconds: (performance.now() - t0) / 1000 });
    });
    c.on("error", () => {});
  });
}

/** One request and its whole response (Content-Length framed) on a new connection, left open afterwards. */
function openIdle(a: Addr, path: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const c = net.connect(a.port, a.host, () => c.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\n\r\n`));
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`bench: no response on an idle-connection probe to ${a.host}:${a.port}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(buf.slice(0, end));
      if (cl && buf.length - end - 4 < Number(cl[1])) return;
      clearTimeout(timer);
      c.off("data", onData);
      c.on("data", () => {});
      resolve(c);
    };
    c.on("data", onData);
    c.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * Opens `count` keep-alive connections (`batch` at a time), each after one complete request, calls `measure`
 * while all are open and idle, then destroys them all. Throws if a connection closes before `measure` runs.
 */
export async function withIdleConnections<T>(
  a: Addr,
  path: string,
  count: number,
  measure: () => Promise<T>,
  batch = 250,
): Promise<T> {
  const socks: net.Socket[] = [];
  let closedEarly = 0;
  try {
    for (let i = 0; i < count; i += batch) {
      const n = Math.min(batch, count - i);
      const opened = await Promise.allSettled(Array.from({ length: n }, () => openIdle(a, path, 10_000)));
      for (const o of opened) {
        if (o.status === "rejected") continue;
        o.value.once("close", () => closedEarly++);
        socks.push(o.value);
      }
      const failed = opened.find((o) => o.status === "rejected");
      if (failed) throw failed.reason; // the finally below still destroys every socket this batch opened
    }
    const result = await measure();
    if (closedEarly > 0)
      throw new Error(
        `bench: ${closedEarly} of ${count} idle connections were closed by the peer before measuring`,
      );
    return result;
  } finally {
    for (const s of socks) s.destroy();
  }
}
