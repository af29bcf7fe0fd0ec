import { describe, expect, it } from "vitest";
import { customCheck } from "./custom.js";

const ctx = { signal: new AbortController().signal, timeout: 100 };

describe("customCheck", () => {
  it("maps booleans, words and objects; a throw is down", async () => {
    expect(await customCheck(() => true)(ctx)).toMatchObject({ status: "up", code: "CUSTOM" });
    expect(await customCheck(async () => "down" as const)(ctx)).toMatchObject({ status: "down" });
    expect(
      await customCheck(async () => ({ status: "up", weightPercent: 25, reason: "lag 2s" }))(ctx),
    ).toEqual({
      status: "up",
      code: "CUSTOM",
      reason: "lag 2s",
      weightPercent: 25,
    });
    expect(
      await customCheck(() => {
        throw new Error("replica lag");
      })(ctx),
    ).toMatchObject({ status: "down", reason: "check threw: replica lag" });
    expect(await customCheck(() => 42 as unknown as boolean)(ctx)).toMatchObject({ status: "down" });
  });
});
