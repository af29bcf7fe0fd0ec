import { describe, expect, it } from "vitest";
import { parseAlgorithm } from "./parse.js";

describe("parseAlgorithm reads HAProxy's balance line", () => {
  it.each([
    ["roundrobin", "roundrobin"],
    ["static-rr", "static-rr"],
    ["leastconn", "leastconn"],
    ["first", "first"],
    ["random", "random"],
    ["random(3)", "random(3)"],
    ["source", "source"],
    ["source hash-type consistent", "source (consistent)"],
    ["uri depth 2 whole", "uri"],
    ["uri len 10 path-only hash-type maglev", "uri (maglev)"],
    ["url_param userid", "url_param(userid)"],
    ["hdr(host) use_domain_only", "hdr(host)"],
    ["rdp-cookie", "rdp-cookie(mstshash)"],
    ["rdp-cookie(user)", "rdp-cookie(user)"],
    ["hash hash-type jump", "hash (jump)"],
    ["consistent hash-balance-factor 125", "hash (consistent)"],
    ["maglev", "hash (maglev)"],
    ["ketama", "hash (consistent)"],
    ["jump", "hash (jump)"],
    ["peak-ewma", "peak-ewma"],
  ])("%s", (spec, name) => {
    expect(parseAlgorithm(spec).name).toBe(name);
  });

  it.each([
    ["hdr", /needs a name, e.g. hdr\(host\)/],
    ["leastconn(2)", /algorithm "leastconn\(2\)" leastconn takes no argument/],
    ["random(x)", /draws needs an integer/],
    ["random(0)", /random\.draws 0 must be an integer 1\.\.100/],
    ["roundrobin hash-type consistent", /hash-type does not apply to roundrobin/],
    ["uri depth", /depth needs an integer/],
    ["first extra", /unexpected "extra"/],
    ["url_param userid check_post", /check_post is not supported/],
  ])("rejects %s", (spec, message) => {
    expect(() => parseAlgorithm(spec)).toThrow(message);
  });
});
