// The corpus runner's shell: sends each vector raw over one TCP connection to a proxy in front of the recording
// origin, collects what comes back until the proxy closes or goes quiet, and classifies the transcript.
import net from "node:net";
import { classifyRequest, classifyResponse, type Outcome } from "./classify";
import type { RecordingOrigin } from "./origin";
import type { Vector } from "./vectors";

export interface Result extends Outcome {
  id: string;
  category: string;
  title: string;
}

export interface RunOptions {
  /** how long the connection may stay quiet before the transcript is taken (ms) */
  quietMs?: number;
  /** the most one vector may take (ms) */
  limitMs?: number;
  /** how long to wait for the first byte of an answer (ms) */
  firstMs?: number;
}

interface Conn {
  sock: net.Socket;
  bytes: () => Buffer;
  closed: () => boolean;
  /**
   * Resolves when the proxy closed, or went quiet for `quietMs` (`firstMs` when it has sent nothing since
   * settle began) with `done()` true; at most after `limitMs`.
   */
  settle(quietMs: number, limitMs: number, firstMs: number, done: () => boolean): Promise<void>;
}

function connect(port: number, host: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closed = false;
    let last = performance.now();
    const sock = net.connect(port, host, () =>
      resolve({
        sock,
        bytes: () => Buffer.concat(chunks),
        closed: () => closed,
        async settle(quietMs, limitMs, firstMs, done) {
          const t0 = performance.now();
          const end = t0 + limitMs;
          const quietSince = () => performance.now() - Math.max(last, t0);
          for (;;) {
            if (closed || performance.now() >= end) return;
            const nothingYet = last < t0;
            if (nothingYet ? performance.now() - t0 >= firstMs && done() : quietSince() >= quietMs && done())
              return;
            await new Promise((r) => setTimeout(r, 10));
          }
        },
      }),
    );
    sock.on("data", (d) => {
      chunks.push(d);
      last = performance.now();
    });
    sock.on("close", () => {
      closed = true;
    });
    sock.on("end", () => {
      closed = true;
    });
    sock.on("error", (e) => {
      closed = true;
      reject(e);
    });
  });
}

export async function runVector(
  v: Vector,
  proxy: { host: string; port: number },
  origin: RecordingOrigin,
  o: RunOptions = {},
): Promise<Result> {
  const quiet = o.quietMs ?? 300;
  const limit = o.limitMs ?? 5000;
  const first = o.firstMs ?? 1000;
  // every message the origin answered with a tag has reached the client (a slow proxy is waited for)
  const done = () =>
    (c
      .bytes()
      .toString("latin1")
      .match(/\r\nx-origin-msg:/gi)?.length ?? 0) >=
    origin.record().messages.filter((m) => !m.message.target?.startsWith("/resp/")).length;
  origin.reset();
  const c = await connect(proxy.port, proxy.host);
  let sentCheck = false;
  let closed = false;
  try {
    if (v.kind === "request") {
      c.sock.write(Buffer.from(v.raw, "latin1"));
      await c.settle(quiet, limit, first, done);
    } else {
      c.sock.write(`GET /resp/${v.id} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await c.settle(quiet, limit, first, done);
      if (!c.closed()) {
        sentCheck = true;
        c.sock.write("GET /check HTTP/1.1\r\nHost: x\r\n\r\n");
        await c.settle(quiet, limit, first, done);
      }
    }
    closed = c.closed();
  } finally {
    c.sock.destroy();
  }
  // let the proxy pass on (or abort) what it still holds, then judge
  await new Promise((r) => setTimeout(r, 100));
  const client = { bytes: c.bytes(), closed };
  const rec = origin.record();
  const outcome =
    v.kind === "request" ? classifyRequest(v, client, rec) : classifyResponse(v, client, rec, sentCheck);
  return { id: v.id, category: v.category, title: v.title, ...outcome };
}

export async function runCorpus(
  vectors: readonly Vector[],
  proxy: { host: string; port: number },
  origin: RecordingOrigin,
  o: RunOptions = {},
): Promise<Result[]> {
  const out: Result[] = [];
  for (const v of vectors) out.push(await runVector(v, proxy, origin, o));
  origin.reset();
  return out;
}
