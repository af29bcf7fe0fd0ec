/**
 * The hostile-server matrix (issue 10), bounded: one loopback server per hostile behaviour, N checks against
 * each (all at once), every verdict sane (the expected status and HAProxy code, a printable reason), and
 * afterwards no file descriptor and no timer left behind by the checkers.
 */
import { readdirSync } from "node:fs";
import net from "node:net";
import { agentCheck, type Checker, type CheckResult, httpCheck, tcpCheck } from "@lbkit/healthcheck";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const N = 20;
/** The check timeout of behaviours that only a timeout ends (slowloris, half-open). */
const HANG_TIMEOUT = 300;
/** Every other behaviour must be judged without its timeout, however loaded the machine (no race with it). */
const TIMEOUT = 5000;

/** A server whose every connection gets `behave(socket)`; its timers are cleared when the socket closes. */
interface Hostile {
  name: string;
  behave(s: net.Socket, every: (ms: number, fn: () => void) => void): void;
  check(port: number): Checker;
  /** the verdict; `code` lists the acceptable codes when the kernel decides how the peer's end looks */
  want: { status: "up" | "down"; code: CheckResult["code"] | CheckResult["code"][]; reason?: RegExp };
  /** ms; TIMEOUT unless the behaviour ends only by the timeout */
  timeout?: number;
}

const ok200 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const bigHead = `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(60 * 1024)}\r\nContent-Length: 2\r\n\r\nok`;
const http = (port: number) => httpCheck({ host: "127.0.0.1", port, path: "/health" });

const MATRIX: Hostile[] = [
  {
    name: "a well-behaved server (the control)",
    behave: (s) => s.end(ok200),
    check: http,
    want: { status: "up", code: "L7OK" },
  },
  {
    name: "slowloris headers (a byte every 20 ms, never ending)",
    behave: (s, every) => {
      s.write("HTTP/1.1 200 OK\r\n");
      every(20, () => s.write("X"));
    },
    check: http,
    want: { status: "down", code: "L7TOUT" },
    timeout: HANG_TIMEOUT,
  },
  {
    name: "endless body (close-delimited, streamed forever)",
    behave: (s, every) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
      every(5, () => s.write("x".repeat(4096)));
    },
    check: http,
    want: { status: "up", code: "L7OK" }, // the verdict needs the status and 128 body bytes, not the end
  },
  {
    name: "garbage status line",
    behave: (s) => s.end("FOO BAR BAZ\r\n\r\n"),
    check: http,
    want: { status: "down", code: "L7RSP", reason: /not an HTTP\/1\.x status line/ },
  },
  {
    name: "binary garbage",
    behave: (s) => s.end(Buffer.from([0, 1, 2, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0x9b, 13, 10, 13, 10])),
    check: http,
    want: { status: "down", code: "L7RSP" },
  },
  {
    name: "oversized headers, one write (60 KB)",
    behave: (s) => s.end(bigHead),
    check: http,
    want: { status: "down", code: "L7RSP", reason: /response head over 16384 bytes/ },
  },
  {
    name: "oversized headers, split writes (60 KB)",
    behave: (s) => {
      s.write(bigHead.slice(0, 7000));
      setImmediate(() => !s.destroyed && s.end(bigHead.slice(7000)));
    },
    check: http,
    want: { status: "down", code: "L7RSP", reason: /response head over 16384 bytes/ },
  },
  {
    name: "reset mid-response",
    behave: (s) => {
      s.write("HTTP/1.1 200 O");
      setImmediate(() => !s.destroyed && s.resetAndDestroy());
    },
    check: http,
    // loopback delivers the bytes, then the RST shows as a reset or as the end of a truncated head
    want: {
      status: "down",
      code: ["SOCKERR", "L7RSP"],
      reason: /ECONNRESET|closed inside the response head/,
    },
  },
  {
    name: "half-open (accepts, never answers, never closes)",
    behave: () => {},
    check: http,
    want: { status: "down", code: "L7TOUT" },
    timeout: HANG_TIMEOUT,
  },
  {
    name: "closes at once (FIN, no bytes)",
    behave: (s) => s.end(),
    check: http,
    want: { status: "down", code: "L7RSP", reason: /empty response/ },
  },
  {
    name: "TLS garbage (an HTTPS check against a server writing junk)",
    behave: (s) => s.end("this is not TLS\r\n".repeat(100)),
    check: (port) => httpCheck({ host: "127.0.0.1", port, https: true, rejectUnauthorized: false }),
    want: { status: "down", code: "L6RSP" },
  },
  {
    name: "tcp-check expect against a flood without the string",
    behave: (s, every) => every(2, () => s.write("n".repeat(8192))),
    check: (port) =>
      tcpCheck({ host: "127.0.0.1", port, sequence: [{ send: "PING\r\n" }, { expect: "+PONG" }] }),
    want: { status: "down", code: "L7RSP", reason: /no match for string "\+PONG" in 16384 bytes/ },
  },
  {
    name: "agent with terminal escapes",
    behave: (s) => s.end("down \u001b[31m\u001b]0;owned\u0007 #\u001b[2J\u001b[3J gone\n"),
    check: (port) => agentCheck({ host: "127.0.0.1", port }),
    want: { status: "down", code: "L7OK" },
  },
  {
    name: "agent with a huge line and no end of line (1 MB)",
    behave: (s) => s.end("up ".repeat(350_000)),
    check: (port) => agentCheck({ host: "127.0.0.1", port }),
    want: { status: "down", code: "L7RSP", reason: /incomplete line/ },
  },
  {
    name: "agent with a huge line (64 KB of words, then a newline)",
    behave: (s) => s.end(`${"drain ".repeat(10_000)}\n`),
    check: (port) => agentCheck({ host: "127.0.0.1", port, maxLine: 65536 }),
    want: { status: "up", code: "L7OK" },
  },
];

const servers: net.Server[] = [];
/** Server-side sockets still open, by behaviour. */
const open = new Map<net.Socket, string>();
const intervals = new Set<NodeJS.Timeout>();

async function serve(h: Hostile): Promise<number> {
  const onSocket = (s: net.Socket) => {
    s.on("error", () => {});
    open.set(s, h.name);
    s.on("close", () => open.delete(s));
    const mine: NodeJS.Timeout[] = [];
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(() => !s.destroyed && s.writable && fn(), ms);
      mine.push(t);
      intervals.add(t);
    };
    s.on("close", () => {
      for (const t of mine) {
        clearInterval(t);
        intervals.delete(t);
      }
    });
    s.resume(); // read and drop what the checker sends, so its close is seen
    h.behave(s, every);
  };
  const srv = net.createServer(onSocket);
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return (srv.address() as net.AddressInfo).port;
}

const fds = () => readdirSync("/proc/self/fd").length;
const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

let fdsBefore = 0;
let timersBefore = 0;
beforeAll(() => {
  fdsBefore = fds();
  timersBefore = timers();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe(`hostile servers × ${N} checks each`, () => {
  for (const h of MATRIX) {
    it(h.name, async () => {
      const port = await serve(h);
      const check = h.check(port);
      const results = await Promise.all(
        Array.from({ length: N }, () => {
          const abort = new AbortController();
          const timeout = h.timeout ?? TIMEOUT;
          const timer = setTimeout(() => abort.abort(new Error("timeout")), timeout);
          return check({ signal: abort.signal, timeout }).finally(() => clearTimeout(timer));
        }),
      );
      for (const r of results) {
        const codes = Array.isArray(h.want.code) ? h.want.code : [h.want.code];
        expect({ status: r.status, code: r.code, reason: r.reason }).toMatchObject({
          status: h.want.status,
          code: codes.includes(r.code) ? r.code : codes[0],
        });
        if (h.want.reason) expect(r.reason).toMatch(h.want.reason);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may get through
        const control = /[\u0000-\u001f\u007f-\u009f]/;
        expect(r.reason).not.toMatch(control);
        expect(r.excerpt ?? "").not.toMatch(control);
        expect((r.excerpt ?? "").length).toBeLessThanOrEqual(128);
        expect(r.reason.length).toBeLessThanOrEqual(1024);
      }
    });
  }

  it("left no file descriptor and no timer behind", async () => {
    // every checker closed its side, so every server-side socket sees the close (asynchronously)
    const end = performance.now() + 3000;
    while (open.size > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect([...new Set(open.values())]).toEqual([]);
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    while ((fds() > fdsBefore || intervals.size > 0) && performance.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    expect(intervals.size).toBe(0);
    expect(fds()).toBeLessThanOrEqual(fdsBefore);
    expect(timers()).toBeLessThanOrEqual(timersBefore);
  });
});
