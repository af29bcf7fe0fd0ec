// The L4 proxy with JavaScript moving every byte (LBKIT_PROXY_RELAY=0): what a machine without the addon runs.
import { nativeRelay } from "@lbkit/proxy";
import { afterAll, expect, it } from "vitest";
import { l4Suite } from "./proxy/l4-suite.js";

// read once, on the proxy's first session; this file's modules are its own (vitest isolates files)
const before = process.env.LBKIT_PROXY_RELAY;
process.env.LBKIT_PROXY_RELAY = "0";
afterAll(() => {
  if (before === undefined) delete process.env.LBKIT_PROXY_RELAY;
  else process.env.LBKIT_PROXY_RELAY = before;
});

it("the native relay is off", () => {
  expect(nativeRelay()).toEqual({ on: false, reason: "LBKIT_PROXY_RELAY=0 turns it off" });
});

l4Suite("JavaScript");
