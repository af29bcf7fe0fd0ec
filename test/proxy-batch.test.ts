// Batched reads (packages/proxy/src/batch-reads.ts) where a process holds more than one copy of the proxy: the
// ESM and CJS builds side by side share one addon and so one batch; a worker thread's proxy leaves nothing of
// the addon behind when the thread ends. Each runs in a child process on loopback.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const child = fileURLToPath(new URL("./proxy/batch-child.mjs", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));

function run(
  mode: string,
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [child, mode], { cwd: root, timeout: 30_000 }, (e, out, err) => {
      const x = e as (Error & { code?: number; signal?: string }) | null;
      resolve({ code: x ? (x.code ?? null) : 0, signal: x?.signal ?? null, out, err });
    });
  });
}

describe("batched reads with several copies of the proxy in one process", () => {
  it("the ESM and CJS builds share the addon's batch: each request reaches its own proxy's origin and comes back to its own client", async () => {
    const r = await run("dual");
    expect(r.err).toBe("");
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    expect(JSON.parse(r.out)).toEqual({ esm: true, cjs: true, got: ["A:/a1", "B:/b1", "A:/a2", "B:/b2"] });
  });

  it("a worker thread's proxy serves, and the thread exits with its connections open without taking the process down", async () => {
    const r = await run("worker");
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    expect(JSON.parse(r.out)).toEqual({ on: true, body: "W:/w", code: 0 });
  });
  it("a worker thread whose L4 session the native relay moves exits with it open without taking the process down", async () => {
    const r = await run("worker-l4");
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    expect(JSON.parse(r.out)).toEqual({ relay: true, echoed: "ping", code: 0 });
  });
});
