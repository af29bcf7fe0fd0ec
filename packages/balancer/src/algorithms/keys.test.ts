import { describe, expect, it } from "vitest";
import { hdrKey, rdpCookieKey, sourceKey, uriKey, urlParamKey } from "./keys.js";

describe("hash keys, as HAProxy reads them", () => {
  it("source: the address without a port", () => {
    expect(sourceKey({ source: "198.18.0.7:50312" })).toBe("198.18.0.7");
    expect(sourceKey({ source: "198.18.0.7" })).toBe("198.18.0.7");
    expect(sourceKey({ source: "[2001:db8::7]:443" })).toBe("2001:db8::7");
    expect(sourceKey({ source: "2001:db8::7" })).toBe("2001:db8::7");
    expect(sourceKey({})).toBeUndefined();
  });

  it("uri: path before '?', whole, depth, len, path-only", () => {
    const ctx = { uri: "/static/img/logo.png?v=3" };
    expect(uriKey()(ctx)).toBe("/static/img/logo.png");
    expect(uriKey({ whole: true })(ctx)).toBe("/static/img/logo.png?v=3");
    expect(uriKey({ depth: 1 })(ctx)).toBe("/static");
    expect(uriKey({ depth: 2 })(ctx)).toBe("/static/img");
    expect(uriKey({ depth: 9 })(ctx)).toBe("/static/img/logo.png");
    expect(uriKey({ len: 7 })(ctx)).toBe("/static");
    expect(uriKey({ len: 4, depth: 2 })(ctx)).toBe("/sta");
    const abs = { uri: "http://example.com:8080/a/b?q" };
    expect(uriKey()(abs)).toBe("http://example.com:8080/a/b");
    expect(uriKey({ pathOnly: true })(abs)).toBe("/a/b");
    expect(uriKey({ pathOnly: true, whole: true })(abs)).toBe("/a/b?q");
  });

  it("url_param: the named parameter, or nothing", () => {
    const key = urlParamKey("userid");
    expect(key({ uri: "/x?a=1&userid=42&b=2" })).toBe("42");
    expect(key({ uri: "/x?a=1#userid=42" })).toBeUndefined();
    expect(key({ uri: "/x?useridx=1" })).toBeUndefined();
    expect(key({ uri: "/x" })).toBeUndefined();
  });

  it("hdr: the header from Node headers or Fetch Headers, with use_domain_only", () => {
    expect(hdrKey("Host")({ headers: { host: "www.example.com:8080" } })).toBe("www.example.com:8080");
    expect(hdrKey("host", { useDomainOnly: true })({ headers: { host: "www.example.com:8080" } })).toBe(
      "example",
    );
    expect(hdrKey("x-user")({ headers: new Headers({ "X-User": "bob" }) })).toBe("bob");
    expect(hdrKey("x-user")({ headers: { "x-user": ["a", "b"] } })).toBe("a, b");
    expect(hdrKey("x-user")({ headers: {} })).toBeUndefined();
  });

  it("rdp-cookie: from the RDP connection request bytes", () => {
    // TPKT + X.224 Connection Request carrying the routing cookie, as mstsc sends it
    const cookie = "Cookie: mstshash=alice\r\n";
    const bytes = new Uint8Array([3, 0, 0, 11 + cookie.length, 6 + cookie.length, 0xe0, 0, 0, 0, 0, 0]);
    const pdu = new Uint8Array([...bytes, ...new TextEncoder().encode(cookie)]);
    expect(rdpCookieKey()({ rdp: pdu })).toBe("alice");
    expect(rdpCookieKey("other")({ rdp: pdu })).toBeUndefined();
    expect(rdpCookieKey()({ rdp: "bob" })).toBe("bob");
  });
});
