import { describe, expect, it } from "vitest";
import { normaliseFrontend } from "./config.js";
import { parseRequestHead } from "./http/request.js";
import { DEFAULT_HEAD_LIMITS } from "./http/scan.js";
import type { RequestHead } from "./http/types.js";
import { frontendHeaderRules, localAnswer, responseAction, responsePlan, routingHost } from "./l7-local.js";

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

  describe("http-response rules", () => {
    const fe = (httpResponse: object[]) =>
      normaliseFrontend(0, { id: "fe", bind: ":0", httpResponse: httpResponse as never });
    const facts = (status: number, headers: Record<string, string> = {}, path = "/") => ({
      status,
      header: (n: string) => headers[n],
      request: { source: "192.0.2.1", path, method: "GET" },
      backend: "be",
      server: "a",
    });

    it("compiles unconditional edits once, and evaluates nothing per response", () => {
      const f = fe([{ setHeader: "X-A", value: "1" }, { delHeader: "Server" }]);
      const plan = responsePlan(f);
      expect(responsePlan(f)).toBe(plan);
      expect(plan.fixed?.drop).toEqual(["server", "x-a"]);
      const a = responseAction(plan, facts(200), false);
      expect("headers" in a && a.headers).toBe(plan.fixed);
    });

    it("applies an edit only when its condition on status, header or request holds", () => {
      const plan = responsePlan(
        fe([
          { setHeader: "Cache-Control", value: "no-store", if: (r: { status: number }) => r.status >= 500 },
          {
            delHeader: "X-Debug",
            if: (r: { header(n: string): string | undefined }) => r.header("x-debug") === "1",
          },
          {
            addHeader: "X-Api",
            value: "yes",
            if: (r: { request: { path?: string } }) => r.request.path?.startsWith("/api"),
          },
          { setHeader: "X-Always", value: "1" },
        ]),
      );
      const ok = responseAction(plan, facts(200), false);
      expect("headers" in ok && ok.headers.lines).toBe("X-Always: 1\r\n");
      const bad = responseAction(plan, facts(503, { "x-debug": "1" }, "/api/x"), false);
      expect("headers" in bad && bad.headers.lines).toBe(
        "Cache-Control: no-store\r\nX-Always: 1\r\nX-Api: yes\r\n",
      );
      expect("headers" in bad && bad.headers.drop).toEqual(["x-debug", "cache-control", "x-always"]);
      // the same outcome reuses the compiled edits
      const again = responseAction(plan, facts(503, { "x-debug": "1" }, "/api/y"), false);
      expect("headers" in again && again.headers).toBe("headers" in bad && bad.headers);
    });

    it("deny (502 by default, logged PH) and return replace the response; the first that applies wins", () => {
      const plan = responsePlan(
        fe([
          {
            deny: true,
            if: (r: { header(n: string): string | undefined }) => r.header("x-leak") !== undefined,
          },
          { return: 410, body: "gone\n", if: (r: { status: number }) => r.status === 404 },
          { deny: true, status: 403, if: (r: { status: number }) => r.status === 404 },
        ]),
      );
      const d = responseAction(plan, facts(200, { "x-leak": "secret" }), true);
      expect("status" in d && d.status).toBe(502);
      expect("status" in d && d.termination).toBe("proxy");
      expect("status" in d && String(d.bytes)).toMatch(/^HTTP\/1\.1 502 [^\r]*\r\n[\s\S]*Connection: close/);
      const r = responseAction(plan, facts(404), false);
      expect("status" in r && String(r.bytes)).toBe(
        "HTTP/1.1 410 Gone\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\ngone\n",
      );
      expect("status" in r && r.termination).toBe("none");
      expect("headers" in responseAction(plan, facts(200), false)).toBe(true);
    });

    it("rejects a redirect or a bad condition at construction", () => {
      expect(() => fe([{ redirect: "/x" }])).toThrow(
        /httpResponse\[0\].*must be one of setHeader, addHeader, delHeader, deny, return/,
      );
      expect(() => fe([{ deny: true, if: "status 500" }])).toThrow(
        /httpResponse\[0\]\.if "status 500" must be a function/,
      );
    });
  });
});
