import { describe, expect, it } from "vitest";
import { namesFromAltNames, sniLookup } from "./sni.js";

describe("SNI selection (pure)", () => {
  it("reads DNS names from subjectAltName, else the CN", () => {
    expect(namesFromAltNames("DNS:A.test, IP Address:127.0.0.1, DNS:*.wild.test", "CN=x")).toEqual([
      "a.test",
      "*.wild.test",
    ]);
    expect(namesFromAltNames(undefined, "O=org\nCN=only.test")).toEqual(["only.test"]);
  });

  it("exact name first, then a one-label wildcard; nothing for other names", () => {
    const m = new Map([
      ["a.test", 1],
      ["*.test", 2],
      ["*.b.test", 3],
    ]);
    expect(sniLookup(m, "A.TEST.")).toBe(1);
    expect(sniLookup(m, "z.test")).toBe(2);
    expect(sniLookup(m, "x.b.test")).toBe(3);
    expect(sniLookup(m, "y.x.b.test")).toBeUndefined(); // a wildcard covers one label only
    expect(sniLookup(m, "test")).toBeUndefined();
    expect(sniLookup(m, undefined)).toBeUndefined();
  });
});
