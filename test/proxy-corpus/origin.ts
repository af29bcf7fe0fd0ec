// The recording origin: a raw net server that logs exactly the bytes each connection delivers, frames them with
// frameStream, and answers every complete request with a tagged response (X-Origin-Msg: <seq>, body naming what
// it framed), or — for GET /resp/<id> — with that response vector's raw bytes. reset() closes every connection
// and starts a new record, so each vector is judged on its own traffic.
import net from "node:net";
import { type Framed, frameStream, type Message } from "./frame";

export interface OriginConn {
  id: number;
  bytes: Buffer;
  closed: boolean;
  /** closed by the peer (the proxy), not by reset() */
  closedByPeer: boolean;
}

export interface OriginMessage {
  seq: number;
  conn: number;
  message: Message;
}

export interface OriginRecord {
  conns: OriginConn[];
  messages: OriginMessage[];
  /** per connection: the framer's view of its bytes */
  framed: Map<number, Framed>;
}

export interface RecordingOrigin {
  port: number;
  record(): OriginRecord;
  reset(): void;
  close(): Promise<void>;
}

export async function startOrigin(
  canned: ReadonlyMap<string, { raw: string; close?: boolean }>,
): Promise<RecordingOrigin> {
  let conns: OriginConn[] = [];
  let messages: OriginMessage[] = [];
  const framed = new Map<number, Framed>();
  const sockets = new Set<net.Socket>();
  let nextConn = 0;
  let seq = 0;
  const server = net.createServer((sock) => {
    sockets.add(sock);
    const c: OriginConn = { id: nextConn++, bytes: Buffer.alloc(0), closed: false, closedByPeer: false };
    conns.push(c);
    let answered = 0;
    let sentContinue = 0;
    const onData = (d: Buffer) => {
      c.bytes = Buffer.concat([c.bytes, d]);
      const f = frameStream(c.bytes, "request");
      framed.set(c.id, f);
      // 100-continue for a head whose body is still pending
      if (f.pendingBody && sentContinue <= f.messages.length) {
        const head = f.rest.toString("latin1", 0, Math.max(0, f.rest.indexOf("\r\n\r\n")));
        if (/\r\nexpect:[ \t]*100-continue/i.test(head)) {
          sentContinue = f.messages.length + 1;
          sock.write("HTTP/1.1 100 Continue\r\n\r\n");
        }
      }
      for (; answered < f.messages.length; answered++) {
        const m = f.messages[answered]!;
        const s = seq++;
        messages.push({ seq: s, conn: c.id, message: m });
        const id = /^\/resp\/([\w-]+)$/.exec(m.target ?? "")?.[1];
        const v = id ? canned.get(id) : undefined;
        if (v) {
          sock.write(Buffer.from(v.raw, "latin1"));
          if (v.close) sock.end();
          continue;
        }
        const body = JSON.stringify({ seq: s, method: m.method, target: m.target, bodyLength: m.bodyLength });
        sock.write(
          `HTTP/1.1 200 OK\r\nX-Origin-Msg: ${s}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${m.method === "HEAD" ? "" : body}`,
        );
      }
      if (f.error) {
        sock.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        sock.off("data", onData);
        sock.on("data", (more: Buffer) => {
          c.bytes = Buffer.concat([c.bytes, more]);
        });
      }
    };
    sock.on("data", onData);
    sock.on("end", () => {
      c.closedByPeer = true;
      sock.end();
    });
    sock.on("close", () => {
      c.closed = true;
      sockets.delete(sock);
    });
    sock.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    record: () => ({ conns, messages, framed: new Map(framed) }),
    reset() {
      for (const s of sockets) s.destroy();
      conns = [];
      messages = [];
      framed.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
