/**
 * HAProxy's protocol checks against the real servers from Debian — MariaDB, PostgreSQL 15, Redis, Exim,
 * slapd and `openssl s_server` — each started here on loopback with a private data directory and stopped by
 * its pid, and judged by lbkit and by a real HAProxy 2.6 with the same option on the same server: the verdict
 * (up/down) and the check status code (L7OK, L6OK, L7STS, L7RSP, L7TOUT, L4CON) must be HAProxy's, while the
 * servers run (right protocol: up; wrong protocol or a refused login: down) and once they are stopped.
 * Needs root (MariaDB, slapd and Exim run as root here; PostgreSQL as `postgres`) and the packages of
 * scripts/system-deps.sh; under CI=true a missing one fails the suite, elsewhere the suite is skipped.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Checker,
  ldapCheck,
  mysqlCheck,
  pgsqlCheck,
  redisCheck,
  smtpCheck,
  sslHelloCheck,
} from "@lbkit/healthcheck";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haproxyPrerequisite, type RunningHaproxy, startHaproxy } from "./healthcheck/haproxy.js";
import { type Kind, missingServers, type RealServer, START } from "./healthcheck/protocol-servers.js";

const { haproxy, skip: noHaproxy } = haproxyPrerequisite("healthcheck-protocols");
const missing = missingServers();
const notRoot = process.getuid?.() !== 0;
const skip = process.env.CI !== "true" && (noHaproxy || missing.length > 0 || notRoot);
if (skip && !noHaproxy) {
  console.log(`healthcheck-protocols: skipped — ${notRoot ? "needs root" : `missing ${missing.join(", ")}`}`);
}

/** One row: a check (HAProxy option line, lbkit checker) pointed at one kind of server. */
interface Row {
  id: string;
  option: string;
  check: (port: number) => Checker;
  target: Kind;
}
const H = "127.0.0.1";
const ROWS: Row[] = [
  {
    id: "mysql_ok",
    option: "option mysql-check user haproxy post-41",
    check: (port) => mysqlCheck({ host: H, port, user: "haproxy" }),
    target: "mysql",
  },
  {
    id: "mysql_greet",
    option: "option mysql-check",
    check: (port) => mysqlCheck({ host: H, port }),
    target: "mysql",
  },
  {
    id: "mysql_denied",
    option: "option mysql-check user nobody",
    check: (port) => mysqlCheck({ host: H, port, user: "nobody" }),
    target: "mysql",
  },
  {
    // Exim's banner read as a MySQL packet header announces a 2 MB packet: nothing completes it (L7TOUT).
    // (Not slapd: it drops the unexpected bytes with a FIN or a RST as it happens, L7RSP or SOCKERR.)
    id: "mysql_on_smtp",
    option: "option mysql-check",
    check: (port) => mysqlCheck({ host: H, port }),
    target: "smtp",
  },
  {
    id: "pgsql_ok",
    option: "option pgsql-check user haproxy",
    check: (port) => pgsqlCheck({ host: H, port, user: "haproxy" }),
    target: "pgsql",
  },
  {
    id: "pgsql_on_redis",
    option: "option pgsql-check user haproxy",
    check: (port) => pgsqlCheck({ host: H, port, user: "haproxy" }),
    target: "redis",
  },
  {
    id: "redis_ok",
    option: "option redis-check",
    check: (port) => redisCheck({ host: H, port }),
    target: "redis",
  },
  {
    id: "redis_on_smtp",
    option: "option redis-check",
    check: (port) => redisCheck({ host: H, port }),
    target: "smtp",
  },
  { id: "smtp_ok", option: "option smtpchk", check: (port) => smtpCheck({ host: H, port }), target: "smtp" },
  {
    id: "smtp_ehlo",
    option: "option smtpchk EHLO lb.test",
    check: (port) => smtpCheck({ host: H, port, command: "EHLO", domain: "lb.test" }),
    target: "smtp",
  },
  {
    id: "smtp_on_redis",
    option: "option smtpchk",
    check: (port) => smtpCheck({ host: H, port }),
    target: "redis",
  },
  {
    id: "ldap_ok",
    option: "option ldap-check",
    check: (port) => ldapCheck({ host: H, port }),
    target: "ldap",
  },
  {
    id: "ldap_on_mysql",
    option: "option ldap-check",
    check: (port) => ldapCheck({ host: H, port }),
    target: "mysql",
  },
  {
    id: "ssl_ok",
    option: "option ssl-hello-chk",
    check: (port) => sslHelloCheck({ host: H, port }),
    target: "tls",
  },
  {
    id: "ssl_on_smtp",
    option: "option ssl-hello-chk",
    check: (port) => sslHelloCheck({ host: H, port }),
    target: "smtp",
  },
];
const KINDS: Kind[] = ["mysql", "pgsql", "redis", "smtp", "ldap", "tls"];
const TIMEOUT = 1500;

describe.skipIf(skip)("protocol checks vs real servers and HAProxy 2.6", () => {
  const dir = mkdtempSync(join(tmpdir(), "lbkit-hc-proto-"));
  chmodSync(dir, 0o755); // PostgreSQL runs as `postgres` and must reach its data directory
  const servers = new Map<Kind, RealServer>();
  let hp: RunningHaproxy | undefined;

  beforeAll(async () => {
    for (const k of KINDS) servers.set(k, await START[k](dir));
  }, 120_000);
  afterAll(async () => {
    await hp?.stop();
    await Promise.all([...servers.values()].map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  async function startHp(): Promise<void> {
    const lines = [
      "defaults",
      "  mode tcp",
      "  timeout connect 1s",
      "  timeout client 5s",
      "  timeout server 5s",
      `  timeout check ${TIMEOUT}`,
    ];
    for (const r of ROWS) {
      lines.push(
        `backend ${r.id}`,
        `  ${r.option}`,
        `  server s ${H}:${servers.get(r.target)!.port} check inter 400 rise 1 fall 1`,
      );
    }
    hp = await startHaproxy(haproxy, dir, "protocols", lines);
  }

  /** HAProxy's view once every row has a verdict that matches `settled`: { id: [UP|DOWN, check_status] }. */
  async function haproxyView(
    settled: (status: string, code: string) => boolean,
  ): Promise<Record<string, [string, string]>> {
    const end = performance.now() + 15_000;
    for (;;) {
      const rows = (await hp!.stat()).filter((r) => r.svname === "s");
      const view: Record<string, [string, string]> = {};
      for (const r of rows)
        view[r.pxname ?? ""] = [r.status ?? "", (r.check_status ?? "").replace(/^\* ?/, "")];
      const done = (id: string) => {
        const v = view[id];
        return v !== undefined && v[1] !== "" && settled(v[0], v[1]);
      };
      if (ROWS.every((r) => done(r.id))) return view;
      if (performance.now() > end) return view;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function lbkitView(): Promise<Record<string, [string, string, string]>> {
    const out: Record<string, [string, string, string]> = {};
    await Promise.all(
      ROWS.map(async (r) => {
        const res = await r.check(servers.get(r.target)!.port)({
          signal: AbortSignal.timeout(TIMEOUT),
          timeout: TIMEOUT,
        });
        out[r.id] = [res.status === "up" ? "UP" : "DOWN", res.code, res.reason];
      }),
    );
    return out;
  }

  it("servers running: the right protocol is up, a wrong one or a refused login is down — as HAProxy says", async () => {
    await startHp();
    const mine = await lbkitView();
    // every check has run at least twice at inter 400 by the time HAProxy's rows all carry a status
    await new Promise((r) => setTimeout(r, 2 * TIMEOUT));
    const theirs = await haproxyView(() => true);
    const rows = ROWS.map((r) => ({
      id: r.id,
      lbkit: mine[r.id]!.slice(0, 2).join(" "),
      haproxy: theirs[r.id]?.join(" "),
      reason: mine[r.id]![2],
    }));
    console.table(rows);
    for (const r of rows) expect({ id: r.id, v: r.lbkit }).toEqual({ id: r.id, v: r.haproxy });
    for (const id of [
      "mysql_ok",
      "mysql_greet",
      "pgsql_ok",
      "redis_ok",
      "smtp_ok",
      "smtp_ehlo",
      "ldap_ok",
      "ssl_ok",
    ]) {
      expect(mine[id]![0], id).toBe("UP");
    }
    expect(mine.mysql_denied![2]).toContain("Access denied");
  }, 60_000);

  it("servers stopped: every check is down with L4CON, as HAProxy says", async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    const mine = await lbkitView();
    const theirs = await haproxyView((status, code) => status === "DOWN" && code === "L4CON");
    for (const r of ROWS) {
      expect({ id: r.id, v: mine[r.id]!.slice(0, 2) }).toEqual({ id: r.id, v: ["DOWN", "L4CON"] });
      expect({ id: r.id, v: theirs[r.id] }).toEqual({ id: r.id, v: ["DOWN", "L4CON"] });
    }
  }, 60_000);
});
