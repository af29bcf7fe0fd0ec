import { describe, expect, it } from "vitest";
import { authenticate, compileAuth } from "./auth.js";
import { parseCommand } from "./commands.js";

describe("admin auth", () => {
  const creds = compileAuth({ tokens: { ci: "token-0123456789" }, users: { alice: "correct horse" } });
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
  it("accepts the right bearer token or basic user and names who", () => {
    expect(authenticate(creds, "Bearer token-0123456789")).toBe("ci");
    expect(authenticate(creds, "bearer token-0123456789")).toBe("ci");
    expect(authenticate(creds, basic("alice", "correct horse"))).toBe("alice");
  });
  it("refuses everything else", () => {
    for (const h of [
      undefined,
      "",
      "Bearer",
      "Bearer token-012345678",
      "Bearer token-01234567890",
      basic("alice", "wrong"),
      basic("bob", "correct horse"),
      `Basic ${Buffer.from("token-0123456789").toString("base64")}`,
      "Bearer alice:correct horse", // a basic credential is not a token
      "Digest x",
    ])
      expect(authenticate(creds, h)).toBeUndefined();
  });
});

describe("admin commands", () => {
  it("parses reads", () => {
    expect(parseCommand("GET", "/stats", "")).toEqual({ kind: "stats", format: "html" });
    expect(parseCommand("GET", "/stats;csv", "")).toEqual({ kind: "stats", format: "csv" });
    expect(parseCommand("GET", "/stats.json?x=1", "")).toEqual({ kind: "stats", format: "json" });
    expect(parseCommand("GET", "/metrics", "")).toEqual({ kind: "metrics" });
    expect(parseCommand("GET", "/servers", "")).toEqual({ kind: "servers" });
  });
  it("parses changes", () => {
    expect(parseCommand("POST", "/backends/be/servers/a", '{"weight":5,"state":"drain"}')).toEqual({
      kind: "set",
      backend: "be",
      server: "a",
      change: { weight: 5, state: "drain" },
    });
    expect(parseCommand("POST", "/backends/be/servers/a", '{"maxqueue":10,"maxconn":0}')).toEqual({
      kind: "set",
      backend: "be",
      server: "a",
      change: { maxqueue: 10, maxconn: 0 },
    });
    expect(parseCommand("POST", "/backends/be/servers/a/disable", "")).toMatchObject({
      change: { state: "maint" },
    });
    expect(parseCommand("POST", "/backends/be/servers/a/enable", "")).toMatchObject({
      change: { state: "up" },
    });
    expect(parseCommand("POST", "/backends/be/servers/a/drain", "")).toMatchObject({
      change: { state: "drain" },
    });
    expect(parseCommand("POST", "/backends/be/servers/a/shutdown-sessions", "")).toEqual({
      kind: "shutdown-sessions",
      backend: "be",
      server: "a",
    });
    expect(parseCommand("PUT", "/backends/be/servers/c", '{"address":"127.0.0.1","port":80}')).toEqual({
      kind: "add",
      backend: "be",
      server: "c",
      options: { address: "127.0.0.1", port: 80 },
    });
    expect(parseCommand("DELETE", "/backends/b%20e/servers/a", "")).toEqual({
      kind: "remove",
      backend: "b e",
      server: "a",
    });
  });
  it("refuses malformed (400), unknown (404) and wrong methods (405)", () => {
    const st = (m: string, u: string, b = "") => (parseCommand(m, u, b) as { error?: number }).error;
    expect(st("POST", "/backends/be/servers/a", "{")).toBe(400);
    expect(st("POST", "/backends/be/servers/a", "[]")).toBe(400);
    expect(st("POST", "/backends/be/servers/a", "{}")).toBe(400);
    expect(st("POST", "/backends/be/servers/a", '{"weight":257}')).toBe(400);
    expect(st("POST", "/backends/be/servers/a", '{"weight":1.5}')).toBe(400);
    expect(st("POST", "/backends/be/servers/a", '{"state":"sleepy"}')).toBe(400);
    expect(st("POST", "/backends/be/servers/a", '{"maxconn":-1}')).toBe(400);
    expect(st("POST", "/backends/be/servers/a", '{"maxqueue":-1}')).toBe(400);
    expect(st("POST", "/backends/be/servers/a", '{"maxqueue":2.5}')).toBe(400);
    expect(st("POST", "/backends/be/servers/a", '{"maxqueue":"5"}')).toBe(400);
    expect(st("POST", "/backends/be/servers/a", '{"colour":"red"}')).toBe(400);
    expect(st("PUT", "/backends/be/servers/a", '{"address":"127.0.0.1"}')).toBe(400);
    expect(st("PUT", "/backends/be/servers/a", '{"address":"x","port":1,"evil":1}')).toBe(400);
    expect(st("POST", "/backends/%ZZ/servers/a", "{}")).toBe(400);
    expect(st("POST", "/backends/%0a/servers/a", "{}")).toBe(400);
    expect(st("GET", "/nope")).toBe(404);
    expect(st("POST", "/backends/be/servers/a/reboot")).toBe(404);
    expect(st("POST", "/backends/be/servers")).toBe(404);
    expect(st("GET", "/backends/be/servers/a")).toBe(405);
    expect(st("GET", "/backends/be/servers/a/enable")).toBe(405);
  });
});
