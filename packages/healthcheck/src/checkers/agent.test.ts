import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { agentCheck, parseAgentReply } from "./agent.js";

describe("parseAgentReply (HAProxy agent-check words)", () => {
  it.each([
    ["50%", { weightPercent: 50 }],
    ["up 75%", { op: "up", weightPercent: 75 }],
    ["ready,100%", { admin: "ready", weightPercent: 100 }],
    ["drain", { admin: "drain" }],
    ["MAINT", { admin: "maint" }],
    ["down #disk full", { op: "down", description: "disk full" }],
    ["down#disk full", {}], // HAProxy: "down#disk" is an unknown word, not "down"
    ["#only a comment", { description: "only a comment" }],
    ["stopped # shutting down", { op: "stopped", description: "shutting down" }],
    ["fail", { op: "fail" }],
    ["75%,maxconn:30,maint,down", { weightPercent: 75, maxConn: 30, admin: "maint", op: "down" }],
    ["up\tready  0%", { op: "up", admin: "ready", weightPercent: 0 }],
    ["bogus words 12", {}],
  ])("%j", (line, want) => {
    expect(parseAgentReply(line)).toEqual(want);
  });
});

const servers: net.Server[] = [];
// The agent check destroys its socket once it has the answer, so the kernel may reset the connection
// under the server: ECONNRESET/EPIPE there are expected, anything else is a real failure.
const unexpected: Error[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  expect(unexpected.splice(0)).toEqual([]);
});

async function agent(reply: (sent: string) => string | null): Promise<number> {
  const srv = net.createServer((s) => {
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "ECONNRESET" && e.code !== "EPIPE") unexpected.push(e);
    });
    let sent = "";
    const answer = () => {
      const r = reply(sent);
      if (r !== null) s.end(r);
    };
    s.on("data", (d) => {
      sent += d.toString();
      if (sent.endsWith("\n")) answer();
    });
    setTimeout(() => !s.destroyed && sent === "" && answer(), 20);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return (srv.address() as net.AddressInfo).port;
}

describe("agentCheck on loopback", () => {
  it("reads one line and parses it; agent-send is sent first", async () => {
    const port = await agent((sent) => (sent === "be/srv1\n" ? "drain 50%\r\nignored\n" : "up\n"));
    const r = await agentCheck({ host: "127.0.0.1", port, send: "be/srv1\n" })({
      signal: AbortSignal.timeout(3000), // generous: a reply must not lose a race with a loaded machine
      timeout: 3000,
    });
    expect(r).toMatchObject({
      status: "up",
      weightPercent: 50,
      agent: { admin: "drain", weightPercent: 50 },
    });
  });

  it("a reply of down is a down result; no reply before the timeout is L7TOUT", async () => {
    const port = await agent(() => "down #maintenance window\n");
    const r = await agentCheck({ host: "127.0.0.1", port })({
      signal: AbortSignal.timeout(3000), // generous: a reply must not lose a race with a loaded machine
      timeout: 3000,
    });
    expect(r).toMatchObject({ status: "down", agent: { op: "down", description: "maintenance window" } });
    const silent = await agent(() => null);
    const t = await agentCheck({ host: "127.0.0.1", port: silent })({
      signal: AbortSignal.timeout(100),
      timeout: 100,
    });
    expect(t).toMatchObject({ status: "down", code: "L7TOUT" });
    expect(t.agent).toBeUndefined();
  });

  it("a reply cut by the close without CR/LF is ignored, as HAProxy does", async () => {
    const port = await agent(() => "50%");
    const r = await agentCheck({ host: "127.0.0.1", port })({
      signal: AbortSignal.timeout(3000), // generous: a reply must not lose a race with a loaded machine
      timeout: 3000,
    });
    expect(r).toMatchObject({ status: "down", code: "L7RSP" });
    expect(r.agent).toBeUndefined();
  });

  it("terminal escapes in the agent's line never reach the reason or the description raw", async () => {
    const evil = "down \u001b[31mred\u001b]0;owned\u0007 #\u001b[2Jdisk \u009b1mfull\n";
    const port = await agent(() => evil);
    const r = await agentCheck({ host: "127.0.0.1", port })({
      signal: AbortSignal.timeout(3000), // generous: a reply must not lose a race with a loaded machine
      timeout: 3000,
    });
    expect(r.status).toBe("down");
    expect(r.reason).toBe("down .[31mred.]0;owned. #.[2Jdisk Â.1mfull"); // the agent wrote UTF-8; C1 CSI (0x9b) shown as "."
    expect(r.agent?.description).toBe(".[2Jdisk Â.1mfull");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point
    const control = /[\u0000-\u001f\u007f-\u009f]/;
    for (const text of [r.reason, r.excerpt ?? "", r.agent?.description ?? ""])
      expect(text).not.toMatch(control);
  });
});
