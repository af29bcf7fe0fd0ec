import { describe, expect, it } from "vitest";
import type { TransactionLog } from "../shell.js";
import { accessJson, accessRecord, haproxyDate, httplog, isoTime, tcplog } from "./format.js";

const at = Date.UTC(2009, 1, 6, 12, 14, 14, 55);
const e = {
  frontend: "http-in",
  backend: "static",
  server: "srv1",
  client: "::ffff:10.0.1.2",
  clientPort: 33317,
  status: 200,
  termination: "--",
  retries: 0,
  redispatches: 0,
  queuePos: -1,
  duration: 109,
  at,
  timers: { request: 10, queue: 0, connect: 30, response: 69, total: 109 },
  bytesIn: 120,
  bytesOut: 2750,
  method: "GET",
  path: "/index.html",
} as TransactionLog;

describe("access log format", () => {
  it("renders HAProxy's accept date", () => {
    expect(haproxyDate(at)).toBe("06/Feb/2009:12:14:14.055");
  });
  it("renders an httplog line with HAProxy's field order", () => {
    expect(httplog(e)).toBe(
      '10.0.1.2:33317 [06/Feb/2009:12:14:14.055] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 0/0/0/0/0 0/0 "GET /index.html HTTP/1.1"',
    );
    const noServer = {
      ...e,
      backend: undefined,
      server: undefined,
      status: 400,
      termination: "PR",
      method: undefined,
      client: "::1",
    };
    expect(httplog(noServer as TransactionLog)).toContain(
      '[::1]:33317 [06/Feb/2009:12:14:14.055] http-in http-in/<NOSRV> 10/0/30/69/109 400 2750 - - PR-- 0/0/0/0/0 0/0 "<BADREQ>"',
    );
  });
  it("marks a redispatch with + and prints the backend queue position", () => {
    const r = { ...e, retries: 2, redispatches: 1, queuePos: 4 } as TransactionLog;
    expect(httplog(r)).toContain(" ---- 0/0/0/0/+2 0/4 ");
    expect(tcplog(r)).toContain(" 0/0/0/0/+2 0/4");
  });
  it("prints the server queue position (srv_queue) for a request that waited for its own server", () => {
    const r = { ...e, queuePos: 3, serverQueued: true } as TransactionLog;
    expect(httplog(r)).toContain(" ---- 0/0/0/0/0 3/0 ");
    expect(tcplog(r)).toMatch(/ 3\/0$/);
    expect(accessJson("request", r)).toContain('"backend_queue":-1,"srv_queue":3');
    expect(accessRecord("request", r)).toMatchObject({ backend_queue: -1, srv_queue: 3 });
  });

  it("renders a tcplog line", () => {
    const t = {
      ...e,
      status: undefined,
      method: undefined,
      path: undefined,
      termination: "SD",
      retries: 2,
    } as TransactionLog;
    expect(tcplog(t)).toBe(
      "10.0.1.2:33317 [06/Feb/2009:12:14:14.055] http-in static/srv1 0/30/109 2750 SD 0/0/0/0/2 0/0",
    );
  });
  it("the JSON line is the record's JSON, whatever the strings hold", () => {
    for (const x of [
      e,
      { ...e, backend: undefined, server: undefined, status: undefined, method: undefined, path: undefined },
      { ...e, path: '/a"b\\c\u0001', frontend: "fé" },
      { ...e, at: at + 999.7 },
    ] as TransactionLog[]) {
      expect(JSON.parse(accessJson("request", x))).toEqual(
        JSON.parse(JSON.stringify(accessRecord("request", x))),
      );
      expect(accessJson("session", x)).toBe(JSON.stringify(accessRecord("session", x)));
    }
    expect(isoTime(at)).toBe("2009-02-06T12:14:14.055Z");
    expect(isoTime(at + 1001)).toBe("2009-02-06T12:14:15.056Z");
  });

  it("structured record carries the same fields", () => {
    expect(accessRecord("request", e)).toEqual({
      type: "http",
      time: "2009-02-06T12:14:14.055Z",
      client: "::ffff:10.0.1.2",
      client_port: 33317,
      frontend: "http-in",
      backend: "static",
      server: "srv1",
      timers: { TR: 10, Tw: 0, Tc: 30, Tr: 69, Ta: 109 },
      status: 200,
      bytes_read: 2750,
      bytes_uploaded: 120,
      termination: "--",
      retries: 0,
      redispatches: 0,
      backend_queue: -1,
      method: "GET",
      path: "/index.html",
    });
  });
});
