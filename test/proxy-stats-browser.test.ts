/// <reference lib="dom" />
// The stats page in a real browser: headless Chromium from Debian (scripts/system-deps.sh installs it), driven
// by playwright-core with the system browser (no browser download). It loads the page of a live proxy, sees a
// server go DOWN when its health check starts failing and come back UP when it recovers, and keeps screenshots.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpCheck } from "@lbkit/healthcheck";
import { AdminServer } from "@lbkit/proxy";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { until } from "./proxy/helpers.js";
import { cleanups, l7, origins, request, server } from "./proxy/l7-setup.js";
import type { HttpOrigin } from "./proxy/origin-http.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const skip = !CHROMIUM && process.env.CI !== "true";
if (skip)
  console.log("proxy-stats-browser: skipped — chromium not installed (scripts/system-deps.sh installs it)");

const dir = mkdtempSync(join(tmpdir(), "lbkit-proxy-stats-browser-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Width and height from a PNG's IHDR, after checking its signature. */
function png(file: string): { width: number; height: number; bytes: number } {
  const b = readFileSync(file);
  expect(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(b.subarray(12, 16).toString("latin1")).toBe("IHDR");
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}

describe.skipIf(skip)("stats page in headless Chromium", () => {
  it("shows a server going DOWN when its check fails and UP again when it recovers", async () => {
    if (!CHROMIUM)
      throw new Error("chromium is not installed; under CI=true run scripts/system-deps.sh as root");
    // a health endpoint we can fail on demand
    let healthy = true;
    const hs = http.createServer((_req, res) => {
      res.statusCode = healthy ? 200 : 503;
      res.end(healthy ? "ok" : "sick");
    });
    await new Promise<void>((r) => hs.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => hs.close(() => r())));
    const healthPort = (hs.address() as net.AddressInfo).port;
    const [a, b] = await origins("web-a", "web-b");
    const { p, port } = await l7([
      {
        id: "web",
        healthCheck: { inter: 100, fall: 2, rise: 2 },
        servers: [
          server(a as HttpOrigin, {
            check: { check: httpCheck({ host: "127.0.0.1", port: healthPort, path: "/health" }) },
          }),
          server(b as HttpOrigin, { check: true, maxconn: 50 }),
          { id: "web-backup", address: "127.0.0.1", port: (b as HttpOrigin).port, backup: true },
        ],
      },
    ]);
    const admin = new AdminServer({ proxy: p, auth: { users: { ops: "ops-password" } }, statsRefresh: 1 });
    await admin.start();
    cleanups.push(() => admin.stop());
    for (let i = 0; i < 20; i++) await request(port, { path: i % 5 === 4 ? "/status?code=404" : "/" });
    // settled UP (health at its top), so the row is plain green rather than "UP 1/2" (going down) yellow
    expect(await until(() => p.backend("web").checker.status("web-a")?.phase === "up", 10_000)).toBe(true);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    cleanups.push(() => browser.close());
    const ctx = await browser.newContext({
      httpCredentials: { username: "ops", password: "ops-password" },
      viewport: { width: 1280, height: 720 },
    });
    const page = await ctx.newPage();
    const url = `http://127.0.0.1:${admin.address()?.port}/stats`;
    await page.goto(url);
    const row = '[data-server="web/web-a"]';
    expect(await page.getAttribute(row, "data-status")).toBe("UP");
    expect(await page.title()).toBe("lbkit statistics");
    // UP rows are green, as HAProxy's
    expect(await page.$eval(row, (e) => getComputedStyle(e).backgroundColor)).toBe("rgb(192, 255, 192)");

    healthy = false;
    // the page reloads itself every second: wait for the row to turn DOWN without navigating ourselves
    await page.waitForSelector(`${row}[data-status="DOWN"]`, { timeout: 20_000 });
    expect(await page.$eval(row, (e) => getComputedStyle(e).backgroundColor)).toBe("rgb(255, 144, 144)");
    expect(await page.textContent(row)).toMatch(/L7STS 503 in \d+ms/);
    const down = join(dir, "stats-down.png");
    await page.screenshot({ path: down, fullPage: true });

    healthy = true;
    await page.waitForSelector(`${row}[data-status="UP"]`, { timeout: 20_000 });
    expect(await page.textContent(row)).toMatch(/L7OK 200 in \d+ms/);
    // readable on a phone: no horizontal page overflow beyond the scrolling tables, text at a legible size
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    const widths = await page.evaluate(() => ({
      doc: document.documentElement.scrollWidth,
      view: window.innerWidth,
    }));
    expect(widths.doc).toBeLessThanOrEqual(widths.view);
    const fontPx = await page.$eval("td", (e) => Number.parseFloat(getComputedStyle(e).fontSize));
    expect(fontPx).toBeGreaterThanOrEqual(12);
    const phone = join(dir, "stats-phone.png");
    await page.screenshot({ path: phone, fullPage: true });

    const d = png(down);
    expect(d.width).toBe(1280);
    expect(d.height).toBeGreaterThanOrEqual(300);
    expect(d.bytes).toBeGreaterThan(10_000);
    const ph = png(phone);
    expect(ph.width).toBe(390);
    expect(ph.bytes).toBeGreaterThan(5_000);
    if (process.env.LBKIT_KEEP_SCREENSHOTS) {
      const { copyFileSync } = await import("node:fs");
      copyFileSync(down, join(process.env.LBKIT_KEEP_SCREENSHOTS, "stats-down.png"));
      copyFileSync(phone, join(process.env.LBKIT_KEEP_SCREENSHOTS, "stats-phone.png"));
    }
  });
});
