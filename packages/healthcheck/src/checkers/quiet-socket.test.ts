// Quiet connects on real loopback sockets: a plain connect check is up without the server ever accepting (the
// handshake's last ACK is held back, then a RST), a refused port is still refused, and checks that talk to the
// server, or run with quiet connects off, complete the handshake as before.
import { mkdtempSync, readdirSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CheckResult } from "../result.js";
import { loadQuiet, quietConnects, reloadQuiet } from "./quiet-socket.js";
import { tcpCheck } from "./tcp.js";
import { checkTransport } from "./tcp-handle.js";

const servers: net.Server[] = [];
afterEach(async () => {
  delete process.env.LBKIT_HEALTHCHECK_QUIET;
  reloadQuiet();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A listener that counts what it accepts (and what it reads); `accepts(n)` waits until it has accepted n. */
async function counting() {
  let accepted = 0;
  let read = "";
  const waiting: { n: number; done: () => void }[] = [];
  const srv = net.createServer((s) => {
    accepted++;
    for (const w of waiting.filter((w) => accepted >= w.n)) w.done();
    s.on("error", () => {}); // a check's RST
    s.on("data", (d) => {
      read += d.toString("latin1");
      s.end("+OK\r\n");
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    accepted: () => accepted,
    read: () => read,
    accepts: (n: number) => new Promise<void>((done) => (accepted >= n ? done() : waiting.push({ n, done }))),
    /**
     * Connects once more and waits for that connection's accept: the listen queue is first in, first out, so
     * whatever earlier connection completed its handshake has been accepted by then.
     */
    async sentinel(): Promise<void> {
      const before = accepted;
      const c = net.connect(port, "127.0.0.1");
      c.on("error", () => {});
      await this.accepts(before + 1);
      c.destroy();
    },
  };
}

function run(check: ReturnType<typeof tcpCheck>): Promise<CheckResult> {
  return check({ signal: AbortSignal.timeout(3000), timeout: 3000 });
}

describe("quiet connects", () => {
  it("are on where the addon is built (it is, wherever the tests run: pnpm install builds it)", () => {
    expect(checkTransport().name).toBe("tcp-handle");
    expect(quietConnects()).toEqual({ on: true, reason: expect.stringContaining("TCP_QUICKACK off") });
  });

  // The server accepts a quiet check only if this process stalls for the kernel's delayed-ACK time (200 ms)
  // between the SYN-ACK and the check's close; without quiet connects it accepts every one of them.
  it("a plain connect check is up and the server (almost always) accepts nothing", async () => {
    const srv = await counting();
    for (let i = 0; i < 20; i++)
      expect(await run(tcpCheck({ host: "127.0.0.1", port: srv.port }))).toMatchObject({ code: "L4OK" });
    await srv.sentinel();
    expect(srv.accepted() - 1).toBeLessThan(5); // the sentinel aside
  });

  it("over IPv6 too", async () => {
    const srv = net.createServer((s) => s.destroy());
    servers.push(srv);
    let accepted = 0;
    srv.on("connection", () => accepted++);
    await new Promise<void>((r) => srv.listen(0, "::1", r));
    const port = (srv.address() as net.AddressInfo).port;
    for (let i = 0; i < 5; i++)
      expect(await run(tcpCheck({ host: "::1", port }))).toMatchObject({ code: "L4OK" });
    expect(accepted).toBeLessThan(5);
  });

  it("leaks no descriptor, up or refused", async () => {
    const fds = () => readdirSync("/proc/self/fd").length;
    const srv = await counting();
    const refused = await counting();
    await new Promise((r) => servers.pop()!.close(r));
    const before = fds();
    for (let i = 0; i < 50; i++) {
      expect(await run(tcpCheck({ host: "127.0.0.1", port: srv.port }))).toMatchObject({ code: "L4OK" });
      expect(await run(tcpCheck({ host: "127.0.0.1", port: refused.port }))).toMatchObject({ code: "L4CON" });
    }
    expect(fds()).toBeLessThanOrEqual(before);
  });

  it("a refused port is L4CON", async () => {
    const srv = await counting();
    await new Promise((r) => servers.pop()!.close(r));
    expect(await run(tcpCheck({ host: "127.0.0.1", port: srv.port }))).toMatchObject({
      status: "down",
      code: "L4CON",
    });
  });

  it("a check with a sequence completes the handshake and talks to the server", async () => {
    const srv = await counting();
    const r = await run(
      tcpCheck({ host: "127.0.0.1", port: srv.port, sequence: [{ send: "PING\r\n" }, { expect: "+OK" }] }),
    );
    expect(r).toMatchObject({ status: "up", code: "L7OK" });
    expect(srv.accepted()).toBe(1);
    expect(srv.read()).toBe("PING\r\n");
  });

  it("LBKIT_HEALTHCHECK_QUIET=0 turns them off: the server accepts each plain check", async () => {
    process.env.LBKIT_HEALTHCHECK_QUIET = "0";
    reloadQuiet();
    expect(quietConnects()).toEqual({
      on: false,
      reason: expect.stringContaining("LBKIT_HEALTHCHECK_QUIET=0"),
    });
    const srv = await counting();
    for (let i = 0; i < 3; i++)
      expect(await run(tcpCheck({ host: "127.0.0.1", port: srv.port }))).toMatchObject({ code: "L4OK" });
    await srv.accepts(3);
    await srv.sentinel();
    expect(srv.accepted()).toBe(4);
  });

  it("without the addon, says what is missing and how to build it", () => {
    const empty = mkdtempSync(join(tmpdir(), "lbkit-hc-noaddon-"));
    const { native, info } = loadQuiet(empty, {});
    expect(native).toBeUndefined();
    expect(info.on).toBe(false);
    expect(info.reason).toMatch(/addon is not built .*python3, make and a C compiler/);
  });
});
