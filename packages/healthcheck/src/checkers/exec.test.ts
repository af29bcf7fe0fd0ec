import { describe, expect, it } from "vitest";
import { execCheck } from "./exec.js";

const run = (c: ReturnType<typeof execCheck>, timeout = 2000) =>
  c({ signal: AbortSignal.timeout(timeout), timeout });

describe("execCheck", () => {
  it("exit 0 is up, anything else down, with an output excerpt", async () => {
    expect(await run(execCheck({ command: "sh", args: ["-c", "echo all good"] }))).toMatchObject({
      status: "up",
      code: "PROCOK",
      excerpt: "all good",
    });
    expect(await run(execCheck({ command: "sh", args: ["-c", "echo broken >&2; exit 3"] }))).toMatchObject({
      status: "down",
      code: "PROCERR",
      reason: "sh -c echo broken >&2; exit 3: exit 3",
      excerpt: "broken",
    });
  });

  it("a missing program is down (PROCERR ENOENT)", async () => {
    const r = await run(execCheck({ command: "/nonexistent/check" }));
    expect(r).toMatchObject({ status: "down", code: "PROCERR" });
    expect(r.reason).toContain("ENOENT");
  });

  it("misc_dynamic: exit 1 down, exit 2..255 up with weight exit-2", async () => {
    expect(await run(execCheck({ command: "sh", args: ["-c", "exit 1"], dynamic: true }))).toMatchObject({
      status: "down",
    });
    expect(await run(execCheck({ command: "sh", args: ["-c", "exit 12"], dynamic: true }))).toMatchObject({
      status: "up",
      weight: 10,
    });
  });

  it("a hanging command is killed at the timeout (PROCTOUT)", async () => {
    const t0 = performance.now();
    const r = await run(execCheck({ command: "sh", args: ["-c", "sleep 30"] }), 200);
    expect(r).toMatchObject({ status: "down", code: "PROCTOUT" });
    expect(performance.now() - t0).toBeLessThan(5000); // killed at the timeout, not after the 30 s sleep (room for a loaded machine)
  });

  it("rejects a missing command at construction", () => {
    expect(() => execCheck({ command: "" })).toThrow(
      'healthcheck: command "" must be the path or name of a program to run',
    );
  });
});
