import { describe, expect, it } from "vitest";
import { CidrMap } from "./cidr.js";
import { ProxyConfigError } from "./errors.js";
import { queryParam, type RequestFacts, routes } from "./route.js";

const facts = (f: Partial<RequestFacts> & { headers?: Record<string, string> }): RequestFacts => ({
  source: "192.0.2.10",
  method: "GET",
  path: "/",
  query: "",
  ...f,
  header: (n) => f.headers?.[n],
});

describe("Router", () => {
  it("routes by host: exact, .suffix (domain and subdomains), *.wildcard (subdomains only)", () => {
    const r = routes(
      [
        { useBackend: "exact", host: "example.com" },
        { useBackend: "wild", host: "*.wild.test" },
        { useBackend: "suffix", host: ".suffix.test" },
      ],
      "dflt",
    );
    expect(r.route(facts({ host: "example.com" }))).toBe("exact");
    expect(r.route(facts({ host: "www.example.com" }))).toBe("dflt");
    expect(r.route(facts({ host: "a.wild.test" }))).toBe("wild");
    expect(r.route(facts({ host: "wild.test" }))).toBe("dflt");
    expect(r.route(facts({ host: "suffix.test" }))).toBe("suffix");
    expect(r.route(facts({ host: "a.b.suffix.test" }))).toBe("suffix");
    expect(r.route(facts({ host: "xsuffix.test" }))).toBe("dflt");
  });

  it("routes by path exact, prefix and regex, by method, header and query parameter", () => {
    const r = routes([
      { useBackend: "health", path: "/healthz" },
      { useBackend: "api", pathPrefix: ["/api/", "/v1/"] },
      { useBackend: "img", pathRegex: /\.(png|jpg)$/ },
      { useBackend: "writes", method: ["POST", "PUT"] },
      { useBackend: "beta", header: { name: "X-Beta", value: "1" } },
      { useBackend: "mobile", header: { name: "user-agent", value: /Mobile/ } },
      { useBackend: "debug", query: { name: "debug" } },
      { useBackend: "tenant", query: { name: "t", value: "acme corp" } },
    ]);
    expect(r.route(facts({ path: "/healthz" }))).toBe("health");
    expect(r.route(facts({ path: "/healthz/x" }))).toBeUndefined();
    expect(r.route(facts({ path: "/api/users" }))).toBe("api");
    expect(r.route(facts({ path: "/v1/x" }))).toBe("api");
    expect(r.route(facts({ path: "/a/b.png" }))).toBe("img");
    expect(r.route(facts({ method: "PUT" }))).toBe("writes");
    expect(r.route(facts({ headers: { "x-beta": "1" } }))).toBe("beta");
    expect(r.route(facts({ headers: { "x-beta": "2" } }))).toBeUndefined();
    expect(r.route(facts({ headers: { "user-agent": "Foo Mobile/1" } }))).toBe("mobile");
    expect(r.route(facts({ query: "a=1&debug" }))).toBe("debug");
    expect(r.route(facts({ query: "t=acme+corp" }))).toBe("tenant");
    expect(r.route(facts({ query: "t=acme%20corp" }))).toBe("tenant");
    expect(r.route(facts({ query: "tt=acme+corp" }))).toBeUndefined();
  });

  it("ANDs the conditions of one rule; first match wins", () => {
    const r = routes(
      [
        { useBackend: "a", host: "x.test", pathPrefix: "/a" },
        { useBackend: "b", host: "x.test" },
      ],
      "d",
    );
    expect(r.route(facts({ host: "x.test", path: "/a1" }))).toBe("a");
    expect(r.route(facts({ host: "x.test", path: "/b" }))).toBe("b");
    expect(r.route(facts({ host: "y.test", path: "/a" }))).toBe("d");
  });

  it("routes by client CIDR (src) and by a geo map with the longest prefix, IPv4, IPv6 and v4-mapped", () => {
    const r = routes(
      [
        { useBackend: "internal", src: ["10.0.0.0/8", "fd00::/8"] },
        {
          geo: {
            "198.18.0.0/15": "eu",
            "198.18.1.0/24": "eu-fra",
            "2001:db8::/32": "us",
            "2001:db8:1::/48": "us-east",
          },
        },
      ],
      "global",
    );
    expect(r.route(facts({ source: "10.1.2.3" }))).toBe("internal");
    expect(r.route(facts({ source: "::ffff:10.1.2.3" }))).toBe("internal");
    expect(r.route(facts({ source: "fd12::1" }))).toBe("internal");
    expect(r.route(facts({ source: "198.19.0.1" }))).toBe("eu");
    expect(r.route(facts({ source: "198.18.1.77" }))).toBe("eu-fra");
    expect(r.route(facts({ source: "2001:db8:2::1" }))).toBe("us");
    expect(r.route(facts({ source: "2001:db8:1:ffff::1" }))).toBe("us-east");
    expect(r.route(facts({ source: "203.0.113.1" }))).toBe("global");
  });

  it("takes a user predicate", () => {
    const r = routes([{ useBackend: "odd", predicate: (f) => (f.path?.length ?? 0) % 2 === 1 }]);
    expect(r.route(facts({ path: "/ab" }))).toBe("odd");
    expect(r.route(facts({ path: "/a" }))).toBeUndefined();
  });

  it("rejects bad rules at construction, naming option, value and fix", () => {
    const bad = (rules: unknown, option: string) => {
      try {
        routes(rules as never);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ProxyConfigError);
        expect((e as ProxyConfigError).option).toBe(option);
        expect((e as ProxyConfigError).code).toBe("ERR_CONFIG");
      }
    };
    bad([{ useBackend: "" }], "rules[0].useBackend");
    bad([{ useBackend: "a", src: "10.0.0.0/33" }], "rules[0].src");
    bad([{ useBackend: "a", hots: "x" }], "rules[0].hots");
    bad([{ useBackend: "a", host: "a.*.com" }], "rules[0].host");
    bad([{ geo: { "1.2.3.4/40": "x" } }], "rules[0].geo");
    bad([{ useBackend: "a", pathRegex: "/x" }], "rules[0].pathRegex");
  });
});

describe("CidrMap / queryParam", () => {
  it("finds the longest prefix and the /0 default", () => {
    const m = new CidrMap<string>();
    m.set("0.0.0.0/0", "any");
    m.set("10.0.0.0/8", "ten");
    m.set("10.1.0.0/16", "ten-one");
    m.set("10.1.2.3", "host");
    expect(m.get("10.1.2.3")).toBe("host");
    expect(m.get("10.1.2.4")).toBe("ten-one");
    expect(m.get("10.2.0.0")).toBe("ten");
    expect(m.get("11.0.0.0")).toBe("any");
    expect(m.get("::1")).toBeUndefined();
    expect(m.get("nonsense")).toBeUndefined();
    expect(m.get("::ffff:10.1.2.3")).toBe("host");
    m.set("::ffff:192.0.2.0/120", "mapped");
    expect(m.get("192.0.2.9")).toBe("mapped");
  });
  it("reads query parameters", () => {
    expect(queryParam("a=1&b=2", "b")).toBe("2");
    expect(queryParam("a", "a")).toBe("");
    expect(queryParam("ab=1", "a")).toBeUndefined();
    expect(queryParam("a=%zz", "a")).toBe("%zz");
  });
});
