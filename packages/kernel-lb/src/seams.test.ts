// A HealthChecker from @lbkit/healthcheck is a ChangeSource the director can watch (checked by tsc; run by vitest).
import { HealthChecker } from "@lbkit/healthcheck";
import { describe, expect, it } from "vitest";
import type { ChangeSource } from "./director-base.js";

describe("seams", () => {
  it("a HealthChecker is a ChangeSource", () => {
    const watched: ChangeSource = new HealthChecker();
    expect(typeof watched.on).toBe("function");
  });
});
