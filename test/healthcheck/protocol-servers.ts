// The real servers behind HAProxy's protocol checks, from Debian (scripts/system-deps.sh), each started on
// loopback on a free port with a private data directory, in the foreground, and stopped by its own pid.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";

export type Kind = "mysql" | "pgsql" | "redis" | "smtp" | "ldap" | "tls";

export interface RealServer {
  kind: Kind;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const PG_BIN = "/usr/lib/postgresql/15/bin";
/** The binaries each kind needs; a missing one is named by `missingServers()`. */
const NEEDS: Record<Kind, string> = {
  mysql: "/usr/sbin/mariadbd",
  pgsql: `${PG_BIN}/postgres`,
  redis: "/usr/bin/redis-server",
  smtp: "/usr/sbin/exim4",
  ldap: "/usr/sbin/slapd",
  tls: "/usr/bin/openssl",
};

export function missingServers(): string[] {
  return Object.values(NEEDS).filter((p) => !existsSync(p));
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitListening(
  port: number,
  proc: ChildProcess,
  log: () => string,
  ms = 20_000,
): Promise<void> {
  const end = performance.now() + ms;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited (${proc.exitCode}):\n${log()}`);
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, "127.0.0.1");
      c.once("connect", () => {
        c.destroy();
        r(true);
      });
      c.once("error", () => r(false));
    });
    if (ok) return;
    if (performance.now() > end) throw new Error(`server on ${port} did not listen:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function launch(
  kind: Kind,
  argv: string[],
  port: number,
  opts: { uid?: number; gid?: number } = {},
): Promise<RealServer> {
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], ...opts });
  let log = "";
  proc.stdout?.on("data", (d) => (log += d));
  proc.stderr?.on("data", (d) => (log += d));
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const server: RealServer = {
    kind,
    port,
    pid: proc.pid!,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
  return waitListening(port, proc, () => log).then(
    () => server,
    async (err) => {
      await server.stop();
      throw err;
    },
  );
}

/** MariaDB with a `haproxy`@`127.0.0.1` user without a password (what `mysql-check user haproxy` logs in as). */
export async function startMariadb(dir: string): Promise<RealServer> {
  const data = join(dir, "mysql");
  if (!existsSync(data)) {
    execFileSync(
      "mariadb-install-db",
      [
        "--no-defaults",
        `--datadir=${data}`,
        "--user=root",
        "--skip-test-db",
        "--auth-root-authentication-method=normal",
      ],
      { stdio: "ignore" },
    );
  }
  const port = await freePort();
  const sock = join(dir, "mysql.sock");
  const s = await launch(
    "mysql",
    [
      "/usr/sbin/mariadbd",
      "--no-defaults",
      `--datadir=${data}`,
      "--user=root",
      `--socket=${sock}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--pid-file=${join(dir, "mysql.pid")}`,
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=16M",
    ],
    port,
  );
  execFileSync("mariadb", [
    "--no-defaults",
    "-S",
    sock,
    "-uroot",
    "-e",
    "CREATE USER IF NOT EXISTS 'haproxy'@'127.0.0.1'",
  ]);
  return s;
}

/** PostgreSQL 15 (as the postgres user: initdb refuses root), `trust` for the `haproxy` user. */
export async function startPostgres(dir: string): Promise<RealServer> {
  const pg = join(dir, "pg");
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
  if (!existsSync(pg)) {
    mkdirSync(pg);
    chownSync(pg, uid, gid);
    execFileSync(`${PG_BIN}/initdb`, ["-D", join(pg, "data"), "-U", "haproxy", "--auth=trust", "-N"], {
      uid,
      gid,
      stdio: "ignore",
    });
  }
  const port = await freePort();
  return launch(
    "pgsql",
    [
      `${PG_BIN}/postgres`,
      "-D",
      join(pg, "data"),
      "-p",
      String(port),
      "-k",
      pg,
      "-h",
      "127.0.0.1",
      "-c",
      "fsync=off",
    ],
    port,
    { uid, gid },
  );
}

export async function startRedis(dir: string): Promise<RealServer> {
  const port = await freePort();
  return launch(
    "redis",
    ["/usr/bin/redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir],
    port,
  );
}

/** Exim in the foreground (-bdf) with a config of its own that accepts no mail. */
export async function startExim(dir: string): Promise<RealServer> {
  const port = await freePort();
  const spool = join(dir, "exim-spool");
  mkdirSync(spool, { recursive: true });
  const conf = join(dir, "exim.conf");
  writeFileSync(
    conf,
    [
      "primary_hostname = lbkit.test",
      `spool_directory = ${spool}`,
      `log_file_path = ${join(dir, "exim-%slog")}`,
      "local_interfaces = 127.0.0.1",
      "exim_user = root",
      "exim_group = root",
      "never_users =",
      "rfc1413_query_timeout = 0s",
      "host_lookup =",
      "tls_advertise_hosts =",
      "acl_smtp_rcpt = deny_all",
      "begin acl",
      "deny_all:",
      "  deny",
      "",
    ].join("\n"),
  );
  return launch("smtp", ["/usr/sbin/exim4", "-bdf", "-oX", String(port), "-C", conf], port);
}

/** slapd with no database: anonymous binds succeed, which is all ldap-check asks. */
export async function startSlapd(dir: string): Promise<RealServer> {
  const port = await freePort();
  const conf = join(dir, "slapd.conf");
  writeFileSync(conf, `pidfile ${join(dir, "slapd.pid")}\nargsfile ${join(dir, "slapd.args")}\n`);
  return launch("ldap", ["/usr/sbin/slapd", "-d", "0", "-f", conf, "-h", `ldap://127.0.0.1:${port}/`], port);
}

/** `openssl s_server` with a throwaway self-signed certificate. */
export async function startTls(dir: string): Promise<RealServer> {
  const port = await freePort();
  const key = join(dir, "tls.key");
  const cert = join(dir, "tls.crt");
  if (!existsSync(cert)) {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=lbkit.test",
      ],
      { stdio: "ignore" },
    );
  }
  return launch(
    "tls",
    [
      "/usr/bin/openssl",
      "s_server",
      "-quiet",
      "-accept",
      `127.0.0.1:${port}`,
      "-cert",
      cert,
      "-key",
      key,
      "-naccept",
      "1000000",
    ],
    port,
  );
}

export const START: Record<Kind, (dir: string) => Promise<RealServer>> = {
  mysql: startMariadb,
  pgsql: startPostgres,
  redis: startRedis,
  smtp: startExim,
  ldap: startSlapd,
  tls: startTls,
};
