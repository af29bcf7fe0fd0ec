import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type ConnectionPhase, openConnection } from "./connection.js";
import {
  checkTransport,
  forceTransport,
  HandleConnection,
  probeTransport,
  type TransportSource,
} from "./tcp-handle.js";

const servers: net.Server[] = [];
afterEach(async () => {
  forceTransport(undefined);
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(onConn: (s: net.Socket) => void, host = "127.0.0.1"): Promise<number> {
  const srv = net.createServer((s) => {
    s.on("error", () => {}); // a destroyed check may reset the connection
    onConn(s);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, host, r));
  return (srv.address() as net.AddressInfo).port;
}

type Seen = (string | [string, string])[];
/** Opens a connection that records its events, and settles on `end` or `error` (destroying it then). */
function open(host: string, port: number, write?: string) {
  const seen: Seen = [];
  let settle!: () => void;
  const settled = new Promise<void>((r) => {
    settle = r;
  });
  const conn = openConnection(host, port, undefined, {
    ready: () => {
      seen.push("ready");
      if (write !== undefined) conn.write(Buffer.from(write));
    },
    data: (chunk) => seen.push(["data", chunk.toString()]),
    end: () => {
      seen.push("end");
      conn.destroy();
      settle();
    },
    error: (err, phase: ConnectionPhase) => {
      seen.push(["error", `${err.code} ${phase}`]);
      conn.destroy();
      settle();
    },
  });
  return { conn, seen, settled };
}

describe.each(["tcp-handle", "net"] as const)("a check connection over %s", (transport) => {
  const use = () => forceTransport(transport === "net" ? "net" : undefined);

  it("connects, writes, reads and sees the end; phase and tcpUp follow", async () => {
    use();
    const port = await listen((s) => s.on("data", (d) => s.end(`echo ${d}`)));
    const c = open("127.0.0.1", port, "hello");
    expect(c.conn.phase).toBe("connecting");
    expect(c.conn.tcpUp).toBe(false);
    await c.settled;
    expect(c.seen).toEqual(["ready", ["data", "echo hello"], "end"]);
    expect(c.conn.phase).toBe("ready");
    expect(c.conn.tcpUp).toBe(true);
  });

  it("a refused connect is an error while connecting (ECONNREFUSED), with no ready", async () => {
    use();
    const port = await listen(() => {});
    await new Promise((r) => servers.pop()!.close(r));
    const c = open("127.0.0.1", port);
    await c.settled;
    expect(c.seen).toEqual([["error", "ECONNREFUSED connecting"]]);
  });

  it("a reset after connect is an error once ready (ECONNRESET)", async () => {
    use();
    const port = await listen((s) => s.on("data", () => s.resetAndDestroy()));
    const c = open("127.0.0.1", port, "x");
    await c.settled;
    expect(c.seen).toEqual(["ready", ["error", "ECONNRESET ready"]]);
  });

  it("IPv6 (::1)", async () => {
    use();
    const port = await listen((s) => s.end("six"), "::1");
    const c = open("::1", port);
    await c.settled;
    expect(c.seen).toEqual(["ready", ["data", "six"], "end"]);
  });

  it("after destroy no event follows and writes are ignored (destroyed while connecting, or on data)", async () => {
    use();
    const port = await listen((s) => {
      s.write("first");
      s.on("data", () => s.end("more"));
    });
    const early = open("127.0.0.1", port);
    early.conn.destroy();
    early.conn.write(Buffer.from("ignored"));
    const seen: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => {
      done = r;
    });
    const onData = openConnection("127.0.0.1", port, undefined, {
      ready: () => seen.push("ready"),
      data: () => {
        seen.push("data");
        onData.destroy();
        onData.write(Buffer.from("ignored"));
        done();
      },
      end: () => seen.push("end"),
      error: () => seen.push("error"),
    });
    await finished;
    // a third connection's whole life: the two above had every chance to report something by its end
    const after = open("127.0.0.1", port, "go");
    await after.settled;
    expect(after.seen).toEqual(["ready", ["data", "first"], ["data", "more"], "end"]);
    expect(early.seen).toEqual([]);
    expect(seen).toEqual(["ready", "data"]);
  });
});

describe("the check transport", () => {
  it("is libuv's TCP handle on this Node.js", () => {
    expect(checkTransport()).toMatchObject({ name: "tcp-handle" });
  });

  const real: TransportSource = {
    env: {},
    execArgv: [],
    binding: (process as unknown as { binding: (n: string) => Record<string, unknown> }).binding.bind(
      process,
    ),
  };
  it("falls back to net.Socket, saying why, whenever the bindings are missing, odd or would warn", () => {
    expect(probeTransport(real).info.name).toBe("tcp-handle");
    const why = (src: Partial<TransportSource>) => {
      const p = probeTransport({ ...real, ...src });
      expect(p.bindings).toBeUndefined();
      expect(p.info.name).toBe("net");
      return p.info.reason;
    };
    expect(why({ env: { LBKIT_HEALTHCHECK_TRANSPORT: "net" } })).toMatch(/LBKIT_HEALTHCHECK_TRANSPORT=net/);
    expect(why({ execArgv: ["--pending-deprecation"] })).toMatch(/DEP0111/);
    expect(why({ env: { NODE_OPTIONS: "--max-old-space-size=100 --pending-deprecation" } })).toMatch(
      /DEP0111/,
    );
    expect(why({ env: { NODE_PENDING_DEPRECATION: "1" } })).toMatch(/DEP0111/);
    expect(why({ binding: undefined })).toMatch(/process\.binding\(\) is not available/);
    expect(
      why({
        binding: () => {
          throw new Error("No such module: tcp_wrap");
        },
      }),
    ).toMatch(/No such module/);
    expect(why({ binding: (n) => (n === "tcp_wrap" ? { TCP: () => {} } : {}) })).toMatch(
      /lack TCPConnectWrap, WriteWrap, ShutdownWrap, SOCKET/,
    );
  });

  it("takes IP addresses; a host name goes over net.Socket", async () => {
    const port = await listen((s) => s.end("named"));
    const ip = open("127.0.0.1", port);
    const name = open("localhost", port);
    await Promise.all([ip.settled, name.settled]);
    expect(ip.conn).toBeInstanceOf(HandleConnection);
    expect(name.conn).not.toBeInstanceOf(HandleConnection);
    expect(name.seen).toEqual(["ready", ["data", "named"], "end"]);
  });
});
