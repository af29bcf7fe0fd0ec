// Multi-core: the same configuration in N node:cluster workers sharing one listener (examples/proxy --workers).
// Runs the built package (scripts/test.sh builds first).
import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { deadPort } from "./proxy/helpers.js";
import { type HttpOrigin, httpOrigin } from "./proxy/origin-http.js";

const example = fileURLToPath(new URL("../examples/proxy/index.mjs", import.meta.url));
let child: ChildProcess | undefined;
let origin: HttpOrigin | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  await origin?.close();
});

function get(port: number): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
        let s = "";
        res.on("data", (d) => {
          s += d;
        });
        res.on("end", () => resolve(JSON.parse(s).headers));
      })
      .on("error", reject);
  });
}

describe("multi-core proxy", () => {
  it("serves one listener from two cluster workers with the same configuration, and stops on SIGTERM", async () => {
    origin = await httpOrigin("a");
    const port = await deadPort();
    child = spawn(
      process.execPath,
      [
        example,
        "--listen",
        `127.0.0.1:${port}`,
        "--backend",
        `127.0.0.1:${origin.port}`,
        "--workers",
        "2",
        "--tag-worker",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      child?.stdout?.on("data", (d) => String(d).includes("listening") && resolve());
      child?.once("exit", (code) => reject(new Error(`example exited ${code}`)));
    });
    const workers = new Set<string>();
    for (let i = 0; i < 40 && workers.size < 2; i++)
      workers.add((await get(port))["x-proxy-worker"] as string);
    expect(workers.size).toBe(2);
    expect(workers.has(String(child.pid))).toBe(false);
    const exited = new Promise<number | null>((r) => child?.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
