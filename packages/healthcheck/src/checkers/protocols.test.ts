// HAProxy's protocol checks against scripted loopback servers; the real servers are in test/healthcheck-protocols.test.ts.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HealthCheckConfigError } from "../errors.js";
import type { Checker, CheckResult } from "../result.js";
import { ldapCheck } from "./ldap.js";
import { mysqlCheck, mysqlDialog, mysqlLogin } from "./mysql.js";
import { pgsqlCheck, pgsqlStartup } from "./pgsql.js";
import { redisCheck } from "./redis.js";
import { smtpCheck, smtpDialog } from "./smtp.js";
import { clientHello, sslHelloCheck } from "./ssl-hello.js";

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server that records what the check sent and answers with `script(received, socket)`. */
async function scripted(
  script: (got: Buffer, s: net.Socket) => void,
  greet?: Buffer | string,
): Promise<{ port: number; got: () => Buffer }> {
  let all = Buffer.alloc(0);
  const srv = net.createServer((s) => {
    s.on("error", () => {});
    if (greet !== undefined) s.write(greet);
    s.on("data", (d) => {
      all = Buffer.concat([all, d]);
      script(all, s);
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { port: (srv.address() as net.AddressInfo).port, got: () => all };
}

function run(check: Checker, timeout = 3000): Promise<CheckResult> {
  return check({ signal: AbortSignal.timeout(timeout), timeout });
}

function mysqlPacket(seq: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUIntLE(body.length, 0, 3);
  h[3] = seq;
  return Buffer.concat([h, body]);
}
const GREETING = mysqlPacket(
  0,
  Buffer.concat([Buffer.from([10]), Buffer.from("10.11.6-MariaDB\0", "latin1"), Buffer.alloc(40, 1)]),
);
const OK = mysqlPacket(2, Buffer.from([0, 0, 0, 2, 0, 0, 0]));
const denied = (msg: string) =>
  mysqlPacket(2, Buffer.concat([Buffer.from([0xff, 0x15, 0x04]), Buffer.from(`#28000${msg}`)]));

describe("mysqlCheck", () => {
  it("without a user: the greeting is enough (up, with the version)", async () => {
    const srv = await scripted(() => {}, GREETING);
    const r = await run(mysqlCheck({ host: "127.0.0.1", port: srv.port }));
    expect(r).toMatchObject({ status: "up", code: "L7OK" });
    expect(r.reason).toContain("10.11.6-MariaDB");
    expect(srv.got().length).toBe(0);
  });

  it("a greeting that is an error packet (host blocked) is down with L7STS and the server's message", async () => {
    const blocked = mysqlPacket(
      0,
      Buffer.concat([Buffer.from([0xff, 0x69, 0x04]), Buffer.from("Host '127.0.0.1' is blocked")]),
    );
    const srv = await scripted(() => {}, blocked);
    const r = await run(mysqlCheck({ host: "127.0.0.1", port: srv.port }));
    expect(r).toMatchObject({ status: "down", code: "L7STS" });
    expect(r.reason).toContain("1129");
    expect(r.reason).toContain("is blocked");
  });

  it("with a user: sends the 4.1 login + COM_QUIT byte for byte, up on OK, down on Access denied", async () => {
    const expected = mysqlLogin("haproxy", "post-41");
    // length 7+27+7 = 41, sequence 1, caps 00820000, max packet 00800001, charset 21, 23 zeros, name, 00 00, quit
    expect(expected.subarray(0, 4).toString("hex")).toBe("29000001");
    expect(expected.subarray(4, 13).toString("hex")).toBe("008200000080000121");
    expect(expected.subarray(36).toString("latin1")).toBe("haproxy\0\0\x01\0\0\0\x01");
    const ok = await scripted((got, s) => got.length >= expected.length && s.end(OK), GREETING);
    expect(await run(mysqlCheck({ host: "127.0.0.1", port: ok.port, user: "haproxy" }))).toMatchObject({
      status: "up",
      code: "L7OK",
    });
    expect(ok.got().equals(expected)).toBe(true);
    const no = await scripted(
      (got, s) => got.length >= expected.length && s.end(denied("Access denied for user 'haproxy'")),
      GREETING,
    );
    const r = await run(mysqlCheck({ host: "127.0.0.1", port: no.port, user: "haproxy" }));
    expect(r).toMatchObject({ status: "down", code: "L7STS" });
    expect(r.reason).toBe("MySQL error 1045: Access denied for user 'haproxy'");
  });

  it("pre-41 login packet; a truncated greeting and a non-MySQL server are down", async () => {
    expect(mysqlLogin("ha", "pre-41").toString("hex")).toBe(
      `090000010080000001${Buffer.from("ha").toString("hex")}00000100000001`,
    );
    const cut = await scripted(() => {}, GREETING.subarray(0, 10));
    servers.at(-1)!.on("connection", (s) => setImmediate(() => s.end()));
    expect(await run(mysqlCheck({ host: "127.0.0.1", port: cut.port }))).toMatchObject({
      status: "down",
      code: "L7RSP",
    });
    const silent = await scripted(() => {});
    expect(await run(mysqlCheck({ host: "127.0.0.1", port: silent.port }), 200)).toMatchObject({
      status: "down",
      code: "L7TOUT",
    });
  });

  it("bad config fails at construction", () => {
    expect(() => mysqlCheck({ host: "127.0.0.1", port: 3306, user: "" })).toThrow(HealthCheckConfigError);
    expect(() =>
      mysqlCheck({ host: "127.0.0.1", port: 3306, user: "a", protocol: "post-80" as "pre-41" }),
    ).toThrow(/protocol/);
  });
});

describe("pgsqlCheck", () => {
  const R = (type: number) =>
    Buffer.from([0x52, 0, 0, 0, type === 5 ? 12 : 8, 0, 0, 0, type, ...(type === 5 ? [1, 2, 3, 4] : [])]);
  it("sends HAProxy's StartupMessage; AuthenticationOk and MD5 requests are up", async () => {
    expect(pgsqlStartup("haproxy").toString("hex")).toBe(
      `0000001600030000${Buffer.from("user\0haproxy\0\0").toString("hex")}`,
    );
    for (const t of [0, 5]) {
      const srv = await scripted((_g, s) => s.end(R(t)));
      expect(await run(pgsqlCheck({ host: "127.0.0.1", port: srv.port, user: "haproxy" }))).toMatchObject({
        status: "up",
        code: "L7OK",
      });
      expect(srv.got().equals(pgsqlStartup("haproxy"))).toBe(true);
    }
  });

  it("an ErrorResponse is L7RSP with its message; SASL (SCRAM) is L7STS as in HAProxy 2.6", async () => {
    const err = Buffer.concat([
      Buffer.from([0x45, 0, 0, 0, 0]),
      Buffer.from('SFATAL\0C3D000\0Mdatabase "haproxy" does not exist\0\0'),
    ]);
    err.writeUInt32BE(err.length - 1, 1);
    const e = await scripted((_g, s) => s.end(err));
    const r = await run(pgsqlCheck({ host: "127.0.0.1", port: e.port, user: "haproxy" }));
    expect(r).toMatchObject({
      status: "down",
      code: "L7RSP",
      reason: 'PostgreSQL: database "haproxy" does not exist',
    });
    const sasl = Buffer.from([0x52, 0, 0, 0, 23, 0, 0, 0, 10, ...Buffer.from("SCRAM-SHA-256\0\0")]);
    const s = await scripted((_g, sock) => sock.end(sasl));
    expect(await run(pgsqlCheck({ host: "127.0.0.1", port: s.port, user: "haproxy" }))).toMatchObject({
      status: "down",
      code: "L7STS",
    });
    expect(() => pgsqlCheck({ host: "127.0.0.1", port: 5432 } as never)).toThrow(/user/);
  });
});

describe("redisCheck", () => {
  it("PING: +PONG is up, -LOADING is down at once with the line", async () => {
    const ok = await scripted((g, s) => g.toString() === "*1\r\n$4\r\nPING\r\n" && s.write("+PONG\r\n"));
    expect(await run(redisCheck({ host: "127.0.0.1", port: ok.port }))).toMatchObject({
      status: "up",
      code: "L7OK",
    });
    const loading = await scripted((_g, s) => s.write("-LOADING Redis is loading the dataset in memory\r\n"));
    const r = await run(redisCheck({ host: "127.0.0.1", port: loading.port }), 2000);
    expect(r).toMatchObject({
      status: "down",
      code: "L7STS",
      reason: "Redis: -LOADING Redis is loading the dataset in memory",
    });
  });
});

describe("smtpCheck", () => {
  it("greeting 220, HELO localhost, 250: up; QUIT is sent", async () => {
    const srv = await scripted((g, s) => {
      if (g.toString() === "HELO localhost\r\n") s.write("250 mx.example Hello localhost\r\n");
    }, "220 mx.example ESMTP\r\n");
    const r = await run(smtpCheck({ host: "127.0.0.1", port: srv.port }));
    expect(r).toMatchObject({ status: "up", code: "L7OK", reason: "SMTP 250: mx.example Hello localhost" });
    await expect.poll(() => srv.got().toString()).toBe("HELO localhost\r\nQUIT\r\n");
  });

  it("EHLO with a multi-line 250- reply is up; a 554 greeting is L7STS; a non-SMTP banner L7RSP", async () => {
    const ehlo = await scripted((g, s) => {
      if (g.toString() === "EHLO lb.example\r\n") s.write("250-mx.example\r\n250-PIPELINING\r\n250 HELP\r\n");
    }, "220 mx ESMTP\r\n");
    expect(
      await run(smtpCheck({ host: "127.0.0.1", port: ehlo.port, command: "EHLO", domain: "lb.example" })),
    ).toMatchObject({ status: "up" });
    const busy = await scripted(() => {}, "554 no service\r\n");
    expect(await run(smtpCheck({ host: "127.0.0.1", port: busy.port }))).toMatchObject({
      status: "down",
      code: "L7STS",
      reason: "SMTP 554: no service",
    });
    const ssh = await scripted(() => {}, "SSH-2.0-OpenSSH_9.2\r\n");
    expect(await run(smtpCheck({ host: "127.0.0.1", port: ssh.port }))).toMatchObject({
      status: "down",
      code: "L7RSP",
    });
    expect(() => smtpCheck({ host: "127.0.0.1", port: 25, domain: "a b" })).toThrow(HealthCheckConfigError);
  });
});

describe("ldapCheck", () => {
  const bindResponse = (code: number) =>
    Buffer.from([0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, code, 0x04, 0x00, 0x04, 0x00]);
  it("anonymous bind: success is up, resultCode 49 is L7STS, a non-LDAP reply is L7RSP", async () => {
    const ok = await scripted(
      (g, s) => g.toString("hex") === "300c020101600702010304008000" && s.write(bindResponse(0)),
    );
    expect(await run(ldapCheck({ host: "127.0.0.1", port: ok.port }))).toMatchObject({
      status: "up",
      code: "L7OK",
    });
    const bad = await scripted((_g, s) => s.write(bindResponse(49)));
    const r = await run(ldapCheck({ host: "127.0.0.1", port: bad.port }));
    expect(r).toMatchObject({ status: "down", code: "L7STS" });
    expect(r.reason).toContain("49");
    const http = await scripted((_g, s) => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    expect(await run(ldapCheck({ host: "127.0.0.1", port: http.port }))).toMatchObject({
      status: "down",
      code: "L7RSP",
    });
  });

  it("a long-form (2-byte) message length is parsed", async () => {
    const long = Buffer.from([
      0x30, 0x82, 0x00, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
    ]);
    const srv = await scripted((_g, s) => s.write(long));
    expect(await run(ldapCheck({ host: "127.0.0.1", port: srv.port }))).toMatchObject({ status: "up" });
  });
});

describe("sslHelloCheck", () => {
  it("a well-formed ClientHello record", () => {
    const h = clientHello(Buffer.alloc(32, 7));
    expect(h[0]).toBe(0x16);
    expect(h.readUInt16BE(3)).toBe(h.length - 5);
    expect(h[5]).toBe(0x01);
    expect(h.readUIntBE(6, 3)).toBe(h.length - 9);
  });

  it("an alert or handshake record is L6OK; plain text is L6RSP; silence is L6TOUT", async () => {
    const alert = await scripted((_g, s) => s.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])));
    expect(await run(sslHelloCheck({ host: "127.0.0.1", port: alert.port }))).toMatchObject({
      status: "up",
      code: "L6OK",
    });
    expect(alert.got()[0]).toBe(0x16);
    const text = await scripted((_g, s) => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    expect(await run(sslHelloCheck({ host: "127.0.0.1", port: text.port }))).toMatchObject({
      status: "down",
      code: "L6RSP",
    });
    const silent = await scripted(() => {});
    expect(await run(sslHelloCheck({ host: "127.0.0.1", port: silent.port }), 200)).toMatchObject({
      status: "down",
      code: "L6TOUT",
    });
  });
});

describe("the dialogs are pure: a reply split anywhere gives the same verdict", () => {
  it("mysql: greeting + OK fed byte by byte waits, then is up", () => {
    const all = Buffer.concat([GREETING, OK]);
    const d = mysqlDialog(mysqlLogin("haproxy", "post-41"));
    for (let n = 0; n < all.length; n++) expect(d.next(all.subarray(0, n), false)).toEqual({ wait: true });
    expect(d.next(all, false)).toMatchObject({ result: { status: "up", code: "L7OK" } });
    expect(d.next(all.subarray(0, 20), true)).toMatchObject({ result: { status: "down", code: "L7RSP" } });
  });

  it("smtp: a greeting cut before its line end waits; closed after the greeting is L7RSP", () => {
    const d = smtpDialog(Buffer.from("HELO localhost\r\n"));
    expect(d.next(Buffer.from("220 mx"), false)).toEqual({ wait: true });
    expect(d.next(Buffer.from("220 mx\r\n"), false)).toHaveProperty("send");
    expect(d.next(Buffer.from("25"), false)).toEqual({ wait: true });
    expect(d.next(Buffer.alloc(0), true)).toMatchObject({ result: { status: "down", code: "L7RSP" } });
  });
});
