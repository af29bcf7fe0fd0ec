import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ReadBuffers, userReads } from "./reads.js";

describe("ReadBuffers", () => {
  it("copies small reads out of the shared buffer; a full one moves to own buffers until a small read", () => {
    const r = new ReadBuffers();
    const shared = r.next();
    shared.write("hello", "latin1");
    const a = r.take(5, shared);
    expect(a.toString()).toBe("hello");
    expect(a.buffer).not.toBe(shared.buffer); // a copy the caller keeps
    expect(r.next()).toBe(shared);
    // a read that fills the shared buffer: the next read goes to a buffer of its own
    const full = r.take(shared.length, shared);
    expect(full.length).toBe(shared.length);
    const own = r.next();
    expect(own).not.toBe(shared);
    expect(own.length).toBe(65_536);
    // a big read into it is handed over whole (no copy) and the next read gets another buffer
    const big = r.take(own.length, own);
    expect(big).toBe(own);
    const own2 = r.next();
    expect(own2).not.toBe(own);
    // a small read sends it back to the shared buffer
    const small = r.take(10, own2);
    expect(small.buffer).toBe(own2.buffer);
    expect(r.next()).toBe(shared);
  });
});

describe("userReads on an accepted socket", () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });

  it("delivers every byte through the callback in order, each chunk the caller's own, and no data events", async () => {
    const got: Buffer[] = [];
    let switched = false;
    let dataEvents = 0;
    const ended = new Promise<void>((resolve) => {
      const server = net.createServer((s) => {
        switched = userReads(s, new ReadBuffers(), (d) => got.push(d));
        s.on("data", () => dataEvents++);
        s.on("end", () => {
          s.end();
          resolve();
        });
      });
      closers.push(() => server.close());
      server.listen(0, "127.0.0.1", () => {
        const c = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1", () => {
          const chunks = [Buffer.from("small one"), Buffer.alloc(200_000, 7), Buffer.from("tail")];
          for (const ch of chunks) c.write(ch);
          c.end();
        });
        c.resume();
        closers.push(() => c.destroy());
      });
    });
    await ended;
    expect(switched).toBe(true);
    expect(dataEvents).toBe(0);
    // checked after the last read: a chunk that pointed into a reused buffer would hold later bytes by now
    const all = Buffer.concat(got);
    expect(all.length).toBe(9 + 200_000 + 4);
    expect(all.subarray(0, 9).toString()).toBe("small one");
    expect(all.subarray(all.length - 4).toString()).toBe("tail");
    expect(all.subarray(9, 9 + 200_000).every((b) => b === 7)).toBe(true);
  });

  it("leaves a socket with queued bytes to data events", async () => {
    const result = await new Promise<boolean>((resolve) => {
      const server = net.createServer((s) => {
        s.unshift(Buffer.from("queued"));
        resolve(userReads(s, new ReadBuffers(), () => {}));
        s.destroy();
      });
      closers.push(() => server.close());
      server.listen(0, "127.0.0.1", () => {
        const c = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
        c.on("error", () => {});
        closers.push(() => c.destroy());
      });
    });
    expect(result).toBe(false);
  });
});
