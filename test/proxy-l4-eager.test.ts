// The L4 proxy with the native relay taking every session at connect (LBKIT_PROXY_RELAY=eager), so that every
// behaviour of the suite (half-closes, aborts, timeouts, backpressure) runs through the relay, not only those of
// sessions long enough for the default hand-over.
import { nativeRelay } from "@lbkit/proxy";
import { expect, it } from "vitest";
import { l4Suite, relayEnv } from "./proxy/l4-suite.js";

relayEnv("eager");

it("the native relay is on and eager", () => {
  expect(nativeRelay()).toEqual({
    on: true,
    eager: true,
    reason: expect.stringContaining("LBKIT_PROXY_RELAY=eager"),
  });
});

l4Suite("native, eager");
