// A ws-free WebSocket echo origin and client for tunnel tests: the RFC 6455 handshake and short text frames.
import { createHash, randomBytes } from "node:crypto";
import type net from "node:net";
import { connect, type Origin, origin } from "./helpers.js";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC11B27";

/** Server side: after the upgrade, each masked client frame (payload < 126 bytes) comes back unmasked. */
export function wsEchoOrigin(): Promise<Origin> {
  return origin((s) => {
    let head = "";
    const onHead = (d: Buffer) => {
      head += d.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      s.off("data", onHead);
      const key = /sec-websocket-key: *(.+)\r\n/i.exec(head)?.[1]?.trim() ?? "";
      const accept = createHash("sha1")
        .update(key + GUID)
        .digest("base64");
      s.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      let buf = Buffer.from(head.slice(end + 4), "latin1");
      const frames = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 6) {
          const len = (buf[1] as number) & 0x7f;
          if (buf.length < 6 + len) return;
          const mask = buf.subarray(2, 6);
          const payload = Buffer.from(buf.subarray(6, 6 + len).map((b, i) => b ^ (mask[i % 4] as number)));
          buf = buf.subarray(6 + len);
          if (((buf[0] as number) & 0x0f) === 8) return void s.end();
          s.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
        }
      };
      s.on("data", frames);
      if (buf.length > 0) frames(Buffer.alloc(0));
    };
    s.on("data", onHead);
    s.on("end", () => s.end());
  });
}

export interface WsClient {
  socket: net.Socket;
  response: string;
  send(text: string): void;
  next(): Promise<string>;
}

/** Client side: upgrades through `port`, then sends masked text frames and reads unmasked ones. */
export async function wsConnect(port: number, path = "/ws"): Promise<WsClient> {
  const socket = await connect(port);
  const key = randomBytes(16).toString("base64");
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  const waiters: ((s: string) => void)[] = [];
  const messages: string[] = [];
  let response = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      response = buf.subarray(0, end).toString("latin1");
      buf = buf.subarray(end + 4);
      socket.off("data", onData);
      socket.on("data", (more: Buffer) => {
        buf = Buffer.concat([buf, more]);
        parse();
      });
      parse();
      resolve();
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error("closed before the upgrade")));
  });
  function parse() {
    while (buf.length >= 2 && buf.length >= 2 + ((buf[1] as number) & 0x7f)) {
      const len = (buf[1] as number) & 0x7f;
      const text = buf.subarray(2, 2 + len).toString();
      buf = buf.subarray(2 + len);
      const w = waiters.shift();
      if (w) w(text);
      else messages.push(text);
    }
  }
  return {
    socket,
    response,
    send(text: string) {
      const payload = Buffer.from(text);
      const mask = randomBytes(4);
      const masked = payload.map((b, i) => b ^ (mask[i % 4] as number));
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
    },
    next() {
      const m = messages.shift();
      return m !== undefined ? Promise.resolve(m) : new Promise((r) => waiters.push(r));
    },
  };
}
