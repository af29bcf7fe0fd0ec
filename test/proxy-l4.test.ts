// The L4 proxy with the native relay (packages/proxy/native/relay.c), as users get it: pnpm install builds it, and
// it takes a session over once it is a conversation (its third run of bytes one way) or 256 KiB went through.
import { nativeRelay } from "@lbkit/proxy";
import { expect, it } from "vitest";
import { l4Suite } from "./proxy/l4-suite.js";

it("the native relay is on (the addon is built wherever the tests run)", () => {
  expect(nativeRelay()).toEqual({
    on: true,
    eager: false,
    reason: expect.stringContaining("native/relay.c"),
  });
});

l4Suite("native");
