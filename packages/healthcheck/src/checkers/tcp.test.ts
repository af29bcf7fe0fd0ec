import net from "node:net";
import tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { selfSigned } from "../../../../test/fixtures/self-signed.js";
import { HealthCheckConfigError } from "../errors.js";
import type { CheckResult } from "../result.js";
import { tcpCheck } from "./tcp.js";

const servers: net.Server[] = [];
// A check destroys its socket once it has a verdict; an unread reply then makes the kernel reset the
// connection, so the server side may see ECONNRESET/EPIPE. Anything else is a real failure.
const unexpected: Error[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  expect(unexpected.splice(0)).toEqual([]);
});

async function listen(onConn: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer((s) => {
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "ECONNRESET" && e.code !== "EPIPE") unexpected.push(e);
    });
    onConn(s);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return (srv.address() as net.AddressInfo).port;
}

// generous by default: a check that should pass must not fail because a loaded machine was slow (a race with the clock)
function run(check: ReturnType<typeof tcpCheck>, timeout = 3000): Promise<CheckResult> {
  return check({ signal: AbortSignal.timeout(timeout), timeout });
}

describe("tcpCheck on loopback", () => {
  it("connect-only: L4OK on a listener, L4CON on a closed port", async () => {
    const port = await listen((s) => s.end());
    expect(await run(tcpCheck({ host: "127.0.0.1", port }))).toMatchObject({ status: "up", code: "L4OK" });
    const closed = await listen(() => {});
    await new Promise((r) => servers.pop()!.close(r));
    const r = await run(tcpCheck({ host: "127.0.0.1", port: closed }));
    expect(r).toMatchObject({ status: "down", code: "L4CON" });
    expect(r.reason).toContain("ECONNREFUSED");
  });

  it("send/expect sequence like a Redis PING check (string, regex, bytes)", async () => {
    const port = await listen((s) => {
      s.on("data", (d) => {
        const text = d.toString();
        if (text.includes("PING")) s.write("+PONG\r\n");
        if (text.includes("INFO")) s.write("$20\r\nrole:master\r\nx\r\n");
        if (text.includes("QUIT")) s.end(Buffer.from([0x2b, 0x4f, 0x4b]));
      });
    });
    const ok = await run(
      tcpCheck({
        host: "127.0.0.1",
        port,
        sequence: [
          { send: "PING\r\n" },
          { expect: "+PONG" },
          { send: "INFO replication\r\n" },
          { expect: /role:(master)/ },
          { send: "QUIT\r\n" },
          { expect: new Uint8Array([0x2b, 0x4f, 0x4b]) },
        ],
      }),
    );
    expect(ok).toMatchObject({ status: "up", code: "L7OK" });
    const bad = await run(
      tcpCheck({
        host: "127.0.0.1",
        port,
        sequence: [{ send: "INFO\r\n" }, { expect: /role:slave/ }, { send: "QUIT\r\n" }],
      }),
      300,
    );
    expect(bad).toMatchObject({ status: "down", code: "L7TOUT" });
    expect(bad.excerpt).toContain("role:master");
  });

  it("reports a reset as SOCKERR and a close before the expected data as L7RSP", async () => {
    const resetPort = await listen((s) => s.resetAndDestroy());
    const r1 = await run(tcpCheck({ host: "127.0.0.1", port: resetPort, sequence: [{ expect: "hello" }] }));
    expect(r1).toMatchObject({ status: "down" });
    expect(["SOCKERR", "L4CON"]).toContain(r1.code);
    const closePort = await listen((s) => s.end("bye"));
    const r2 = await run(tcpCheck({ host: "127.0.0.1", port: closePort, sequence: [{ expect: "hello" }] }));
    expect(r2).toMatchObject({ status: "down", code: "L7RSP", excerpt: "bye" });
  });

  it("check-ssl with SNI: sequence over TLS; a certificate for another name fails the handshake (L6RSP)", async () => {
    const { cert, key } = selfSigned("smtp.test");
    let sni: string | false | null | undefined;
    const srv = tls.createServer({ cert, key }, (s) => {
      sni = s.servername;
      s.end("220 smtp.test ESMTP ready\r\n");
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    const ok = await run(
      tcpCheck({
        host: "127.0.0.1",
        port,
        tls: { servername: "smtp.test", ca: cert },
        sequence: [{ expect: /^220 / }],
      }),
    );
    expect(ok).toMatchObject({ status: "up", code: "L7OK" });
    expect(sni).toBe("smtp.test");
    const bad = await run(tcpCheck({ host: "127.0.0.1", port, tls: { servername: "other.test", ca: cert } }));
    expect(bad, bad.reason).toMatchObject({ status: "down", code: "L6RSP" });
  });

  it("rejects unknown expects and bad ports at construction", () => {
    expect(() =>
      tcpCheck({ host: "127.0.0.1", port: 1, sequence: [{ expect: 42 as unknown as string }] }),
    ).toThrow(HealthCheckConfigError);
    expect(() => tcpCheck({ host: "127.0.0.1", port: 1, sequence: [{ expect: "" }] })).toThrow(
      /sequence\[0\]\.expect "" is not a known expect/,
    );
    expect(() => tcpCheck({ host: "127.0.0.1", port: 70000 })).toThrow(
      "healthcheck: port 70000 must be an integer 1..65535",
    );
  });
});
