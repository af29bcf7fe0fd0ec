// The L7 suites with every read and write through libuv's TCP handles (LBKIT_PROXY_BATCH=0): what a machine
// without the addon runs. The default (batched reads, packages/proxy/src/batch-reads.ts) runs them in their own files.
import { batchedReads } from "@lbkit/proxy";
import { expect, it } from "vitest";

process.env.LBKIT_PROXY_BATCH = "0"; // read once, when the first proxy of this file starts

it("batched reads are off", () => {
  expect(batchedReads()).toEqual({ on: false, reason: "LBKIT_PROXY_BATCH=0 turns it off" });
});

await import("./proxy-l7.test.js");
await import("./proxy-l7-edges.test.js");
