// Two lbkit proxies sharing a stick table over the peers link (loopback): a client stays on its server when its
// traffic moves from one proxy to the other — entries stored before the link came up (resync) and after.
import type net from "node:net";
import { ReverseProxy, StickPeers } from "@lbkit/proxy";
import { describe, expect, it } from "vitest";
import { until } from "./proxy/helpers.js";
import { cleanups, origins, request, server } from "./proxy/l7-setup.js";

describe("stick-table peers", () => {
  it("a user stuck on one proxy is sent to the same server by the other", async () => {
    const [a, b, c] = await origins("a", "b", "c");
    const make = async (balance: string) => {
      const p = new ReverseProxy({
        frontends: [{ id: "fe", bind: "127.0.0.1:0", defaultBackend: "be" }],
        backends: [
          { id: "be", balance, stick: { on: "hdr(x-user)" }, servers: [server(a!), server(b!), server(c!)] },
        ],
      });
      await p.start();
      cleanups.push(() => p.stop());
      return { p, port: (p.addresses()[0] as net.AddressInfo).port };
    };
    const A = await make("roundrobin");
    const B = await make("first"); // without the shared table B would send everyone to a
    const who = async (port: number, user: string) =>
      JSON.parse((await request(port, { path: "/", headers: { "x-user": user } })).body).id as string;

    // on A, u1 lands on c (a and b are down there for a moment)
    A.p.setServer("be", "a", { state: "down" });
    A.p.setServer("be", "b", { state: "down" });
    expect(await who(A.port, "u1")).toBe("c");
    A.p.setServer("be", "a", { state: "up" });
    A.p.setServer("be", "b", { state: "up" });

    const peersB = new StickPeers({
      proxy: B.p,
      tables: ["be"],
      node: "B",
      bind: "127.0.0.1:0",
      peer: "127.0.0.1:1",
    });
    await peersB.start();
    cleanups.push(() => peersB.stop());
    const peersA = new StickPeers({
      proxy: A.p,
      tables: ["be"],
      node: "A",
      bind: "127.0.0.1:0",
      peer: `127.0.0.1:${peersB.address()?.port}`,
    });
    const up = new Promise((r) => peersA.once("change", r));
    await peersA.start();
    cleanups.push(() => peersA.stop());
    expect(await up).toMatchObject({ id: "A", from: "down", to: "up" });
    const tableB = B.p.backend("be").persistence?.table;
    expect(await until(() => (tableB?.length ?? 0) >= 1)).toBe(true); // the resync
    expect(await who(B.port, "u1")).toBe("c");

    // an entry stored while the link is up is pushed at once
    A.p.setServer("be", "a", { state: "down" });
    A.p.setServer("be", "c", { state: "down" });
    expect(await who(A.port, "u2")).toBe("b");
    expect(await until(() => (tableB?.length ?? 0) >= 2)).toBe(true);
    expect(await who(B.port, "u2")).toBe("b");
    expect(await who(B.port, "u3")).toBe("a"); // a user B never heard of is balanced by B itself
  });

  it("rejects a backend without a stick table", async () => {
    const p = new ReverseProxy({ frontends: [], backends: [{ id: "be", servers: [] }] });
    expect(
      () => new StickPeers({ proxy: p, tables: ["be"], node: "n", bind: ":0", peer: "127.0.0.1:1" }),
    ).toThrow(/stick table/);
  });
});
