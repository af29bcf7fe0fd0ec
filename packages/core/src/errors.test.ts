import { EventEmitter } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { emitError } from "./emit.js";
import { ConfigError, LbkitError, showValue } from "./errors.js";
import { validators } from "./validate.js";

class DemoConfigError extends ConfigError {
  override name = "DemoConfigError";
  constructor(option: string, value: unknown, fix: string) {
    super("demo", option, value, fix);
  }
}

const v = validators((o, val, fix) => new DemoConfigError(o, val, fix));

describe("errors", () => {
  it("config errors read <pkg>: <option> <value> <fix> and carry the fields", () => {
    const e = new DemoConfigError("priority", 300, "must be an integer 1..254");
    expect(e).toBeInstanceOf(LbkitError);
    expect(e.message).toBe("demo: priority 300 must be an integer 1..254");
    expect([e.code, e.package, e.option, e.value, e.fix, e.name]).toEqual([
      "ERR_CONFIG",
      "demo",
      "priority",
      300,
      "must be an integer 1..254",
      "DemoConfigError",
    ]);
  });

  it("showValue never throws", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(showValue("x")).toBe('"x"');
    expect(showValue(undefined)).toBe("undefined");
    expect(showValue(/a+/)).toBe("/a+/");
    expect(showValue(() => 1)).toMatch(/^function/);
    expect(showValue(cyclic)).toBe("[object Object]");
    expect(showValue(10n)).toBe("10");
  });
});

describe("validators", () => {
  it("accept good values and name the option, value and range otherwise", () => {
    expect(v.int("rise", 2, 1, 100)).toBe(2);
    expect(() => v.int("rise", 0, 1, 100)).toThrow("demo: rise 0 must be an integer 1..100");
    expect(() => v.int("rise", 1.5, 1)).toThrow("must be an integer >= 1");
    expect(() => v.ms("advertInterval", 1, 10, 40950, "keepalived's advert_int 1 is 1000 ms")).toThrow(
      "demo: advertInterval 1 must be milliseconds 10..40950 (keepalived's advert_int 1 is 1000 ms)",
    );
    expect(v.oneOf("mode", "http", ["http", "tcp"] as const)).toBe("http");
    expect(() => v.oneOf("mode", "udp", ["http", "tcp"])).toThrow('must be one of "http", "tcp"');
    expect(() => v.string("host", "")).toThrow("non-empty string");
    expect(() => v.bool("check", "yes")).toThrow("must be true or false");
    expect(() => v.number("factor", Number.NaN, 1)).toThrow("must be a number >= 1");
  });

  it("object() rejects unknown keys with a did-you-mean", () => {
    expect(v.object("", { rise: 1 }, ["rise", "fall"])).toEqual({ rise: 1 });
    expect(() => v.object("check", { raise: 1 }, ["rise", "fall"])).toThrow(
      /check\.raise 1 is not an option \(did you mean "rise"\?\)/,
    );
    expect(() => v.object("check", null, ["rise"])).toThrow("must be an object");
  });
});

describe("emitError", () => {
  it("emits to listeners", () => {
    const ee = new EventEmitter();
    const seen: Error[] = [];
    ee.on("error", (e) => seen.push(e));
    emitError(ee, new LbkitError("demo", "ERR_X", "demo: broke"));
    expect(seen.map((e) => e.message)).toEqual(["demo: broke"]);
  });

  it("without a listener, reports a process warning instead of dropping or throwing", () => {
    const spy = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      emitError(new EventEmitter(), new LbkitError("demo", "ERR_X", "demo: broke"));
      expect(spy).toHaveBeenCalledWith(
        "demo: broke",
        expect.objectContaining({ type: "LbkitError", code: "ERR_X" }),
      );
    } finally {
      spy.mockRestore();
    }
  });
});
