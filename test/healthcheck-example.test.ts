/**
 * examples/healthcheck/failover.mjs runs as documented (built dist, loopback only) and shows what its
 * comments promise: web1 goes down on 500s and the VRRP delta drops by 20, comes back, the agent's 50%
 * halves its pool weight, and drain takes it out of the picks.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ensureBuilt } from "./lab/build.js";

const script = fileURLToPath(new URL("../examples/healthcheck/failover.mjs", import.meta.url));

describe("examples/healthcheck/failover.mjs", () => {
  it("runs and reports the failover, the recovery, the agent weight and the drain", async () => {
    ensureBuilt("balancer");
    ensureBuilt("healthcheck");
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, [script], { timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      });
    });
    expect(code, out).toBe(0);
    expect(out).toMatch(
      /web1 up → down {2}\(L7STS: HTTP status 500 not in 200-399, got "web1: database unreachable"\)/,
    );
    expect(out).toContain("VRRP priority delta 0 → -20");
    expect(out).toMatch(/web1 down → up {2}\(L7OK/);
    expect(out).toContain("VRRP priority delta -20 → 0");
    expect(out).toContain("web1 weight 50% → pool weight 50");
    expect(out).toMatch(/web1 up → drain {2}\(agent: drain/);
    expect(out).toMatch(
      /picks: \{"web2":100\}\n.*status: \[\["web1","drain","L7OK"\],\["web2","up","L7OK"\]\]/,
    );
  });
});
