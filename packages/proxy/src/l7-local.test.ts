import { describe, expect, it } from "vitest";
import { normaliseFrontend } from "./config.js";
import { parseRequestHead } from "./http/request.js";
import { DEFAULT_HEAD_LIMITS } from "./http/scan.js";
import type { RequestHead } from "./http/types.js";
import { frontendHeaderRules, localAnswer, routingHost } from "./l7-local.js";

function head(text: string): RequestHead {
  const r = parseRequestHead(Buffer.from(text), DEFAULT_HEAD_LIMITS);
  if (r.kind !== "head") throw new Error(`not a head: ${JSON.stringify(r)}`);
  return r.head;
}

describe("L7 local decisions", () => {
  it("routes on the host without its port, lower-cased, IPv6 literals kept whole", () => {
    expect(routingHost(head("GET / HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n"))).toBe("example.com");
    expect(routingHost(head("GET / HTTP/1.1\r\nHost: [2001:DB8::1]:443\r\n\r\n"))).toBe("[2001:db8::1]");
    expect(routingHost(head("GET / HTTP/1.0\r\n\r\n"))).toBeUndefined();
  });

  it("answers the first matching deny/redirect/return, in order, with the connection header asked for", () => {
    const facts = { source: "192.0.2.1", path: "/old", method: "GET" };
    const rules = [
      { deny: true as const, if: () => false },
      {
        redirect: "https://example.test/new",
        code: 308 as const,
        if: (f: { path?: string }) => f.path === "/old",
      },
      { return: 200, body: "never" },
    ];
    const a = localAnswer(rules, facts, false);
    expect(a?.status).toBe(308);
    expect(String(a?.bytes)).toBe(
      "HTTP/1.1 308 Permanent Redirect\r\nLocation: https://example.test/new\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
    );
    const r = localAnswer([{ return: 204 }, { deny: true }], facts, true);
    expect(String(r?.bytes)).toContain("Connection: close");
    expect(localAnswer([{ deny: true, status: 403 }], facts, true)?.termination).toBe("proxy");
    expect(localAnswer([{ setHeader: "X-A", value: "1" }], facts, true)).toBeUndefined();
  });

  it("compiles a frontend's header rules once per configuration", () => {
    const fe = normaliseFrontend(0, {
      id: "fe",
      bind: ":0",
      forwardFor: { except: "10.0.0.0/8" },
      httpRequest: [{ setHeader: "X-A", value: "1" }, { delHeader: "X-B" }],
    });
    const r = frontendHeaderRules(fe);
    expect(frontendHeaderRules(fe)).toBe(r);
    expect(r.drop).toContain("x-b");
    expect(r.forwardedFor?.except?.("10.1.2.3")).toBe(true);
    expect(r.forwardedFor?.except?.("192.0.2.1")).toBe(false);
  });
});
