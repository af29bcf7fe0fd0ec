// The L4 proxy with JavaScript moving every byte (LBKIT_PROXY_RELAY=0): what a machine without the addon runs.
import { nativeRelay } from "@lbkit/proxy";
import { expect, it } from "vitest";
import { l4Suite, relayEnv } from "./proxy/l4-suite.js";

relayEnv("0");

it("the native relay is off", () => {
  expect(nativeRelay()).toEqual({ on: false, eager: false, reason: "LBKIT_PROXY_RELAY=0 turns it off" });
});

l4Suite("JavaScript");
