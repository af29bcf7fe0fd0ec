// The flow handoff on a real kernel: a client, the VIP's old holder (lb2) and its new holder (lb1) on one bridge.
// A connection opened to lb2 stays open while the VIP moves to lb1 (lb1 adds the address, the client's neighbour
// entry moves to lb1's MAC as a gratuitous ARP would move it; lb2 keeps the VIP, draining). Without the handoff the
// connection's next packet reaches lb1, which has no socket for it and resets it; with lb1 forwarding stray flows
// to lb2 the same packet reaches lb2's socket and lb2 answers; lb1's own connections, older or newer than the
// handoff, stay lb1's; after the grace period (the kernel's set timeout) a stray flow is reset again.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";
import { createLab, type Lab, type LabProcess, requireRoot } from "./lab/netns.js";

const pre = requireRoot(["ip", "nft"]);
const VIP = "198.18.0.200";
const script = fileURLToPath(new URL("./kernel-lb/handoff.mjs", import.meta.url));
const GRACE = 5000;

describe.skipIf(pre.skip)("kernel-lb flow handoff in network namespaces", () => {
  let lab: Lab;
  let handoff: LabProcess;
  const procs: LabProcess[] = [];

  const spawn = (node: string, args: string[]) => {
    const p = lab.spawn(node, [process.execPath, script, ...args], { stdin: true });
    procs.push(p);
    return p;
  };
  /** The client's neighbour entry for the VIP on `node`'s MAC (what a gratuitous ARP from `node` does). */
  const vipOn = (node: string) =>
    lab.exec("client", [
      "ip",
      "neigh",
      "replace",
      VIP,
      "lladdr",
      lab.node(node).mac,
      "dev",
      "eth0",
      "nud",
      "permanent",
    ]);

  /** A connection to the VIP opened while it is on lb2 (the old holder). */
  async function openOnLb2(): Promise<LabProcess> {
    await vipOn("lb2");
    const c = spawn("client", ["client", "--vip", VIP]);
    await c.waitFor("connected", 10_000);
    return c;
  }
  /** `c` sends one line; what came back: its reply or its error. */
  async function send(c: LabProcess): Promise<{ reply?: string; error?: string }> {
    const seen = c.output().length;
    c.write("send\n");
    await c.waitFor(/"(reply|error)"/, 10_000);
    const line = c
      .output()
      .slice(seen)
      .split("\n")
      .find((l) => l.startsWith("{"));
    c.kill();
    return JSON.parse(line ?? "{}");
  }

  beforeAll(async () => {
    for (const p of ["core", "kernel-lb"]) ensureBuilt(p);
    lab = await createLab({ nodes: ["client", "lb1", "lb2"] });
    for (const lb of ["lb1", "lb2"]) {
      await lab.exec(lb, ["ip", "addr", "add", `${VIP}/24`, "dev", "eth0"]);
      await spawn(lb, ["server", "--name", lb]).waitFor(`listening ${lb}`, 10_000);
    }
    handoff = spawn("lb1", ["handoff", "--vip", VIP, "--grace", String(GRACE)]);
    await handoff.waitFor("ready", 10_000);
  }, 60_000);
  afterAll(async () => {
    for (const p of procs) p.kill();
    await lab?.destroy();
  });

  it("without the handoff, the new holder resets a connection the old holder accepted", async () => {
    const c = await openOnLb2();
    await vipOn("lb1");
    expect(await send(c)).toEqual({ error: "ECONNRESET" });
  });

  it("with it, the old holder's connection is answered by the old holder; the new holder's own stay its own", async () => {
    // a connection lb1 accepted before the handoff began: tracked since the handoff's start(), never forwarded
    await vipOn("lb1");
    const own = spawn("client", ["client", "--vip", VIP]);
    await own.waitFor("connected", 10_000);
    // both clients are started before the grace period begins, so what follows takes milliseconds of it
    const stray = await openOnLb2();
    const fresh = spawn("client", ["client", "--vip", VIP, "--lazy"]);
    await fresh.waitFor("waiting", 10_000);
    await vipOn("lb1");
    handoff.write(`forward ${lab.node("lb2").ipv4}\n`);
    await handoff.waitFor(`"peer":"${lab.node("lb2").ipv4}"`, 10_000);
    expect(await send(stray)).toEqual({ reply: "lb2" });
    expect(await send(own)).toEqual({ reply: "lb1" });
    // a SYN is never forwarded: a connection opened after the move is lb1's
    fresh.write("connect\n");
    await fresh.waitFor("connected", 10_000);
    expect(await send(fresh)).toEqual({ reply: "lb1" });
    expect(handoff.output()).not.toContain('"peer":null'); // still inside the grace period
    const rules = (await lab.exec("lb1", ["nft", "list", "table", "ip", "lbkit_handoff"])).stdout;
    expect(rules).toContain(`dup to ${lab.node("lb2").ipv4} device "eth0" drop`);
    // the stray connection's request (and its FIN, ACKs) went through the rule; the fresh connection did not
    expect(Number(/counter packets (\d+)/.exec(rules)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it("after the grace period (a kernel timeout) a stray flow is reset again; stop removes the table", async () => {
    await handoff.waitFor(/"peer":null/, GRACE + 5000);
    // the kernel ended it: the VIP's element in the set `active` timed out
    expect(
      (await lab.exec("lb1", ["nft", "list", "set", "ip", "lbkit_handoff", "active"])).stdout,
    ).not.toContain(VIP);
    const c = await openOnLb2();
    await vipOn("lb1");
    expect(await send(c)).toEqual({ error: "ECONNRESET" });
    handoff.write("stop\n");
    await handoff.waitFor("stopped", 10_000);
    expect((await lab.exec("lb1", ["nft", "list", "tables"])).stdout).not.toContain("lbkit_handoff");
  });
});
