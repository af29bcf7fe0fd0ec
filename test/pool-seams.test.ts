/**
 * The seams between @lbkit/balancer and @lbkit/healthcheck, checked at the type level and at run time: a
 * balancer Pool is a healthcheck PoolLike, and a lease takes the same RequestOutcome that passive health does.
 */
import { Pool } from "@lbkit/balancer";
import type { RequestOutcome } from "@lbkit/core";
import type { PoolLike } from "@lbkit/healthcheck";
import { describe, expect, expectTypeOf, it } from "vitest";

describe("balancer ↔ healthcheck seams", () => {
  it("Pool satisfies PoolLike", () => {
    expectTypeOf<Pool>().toMatchTypeOf<PoolLike>();
    const asPoolLike: PoolLike = new Pool({ servers: [{ id: "a", weight: 3 }] });
    asPoolLike.setWeight("a", 1);
    asPoolLike.setState("a", "drain");
    asPoolLike.setMaxConn?.("a", 5);
    expect(asPoolLike.get("a")?.initialWeight).toBe(3);
  });

  it("a lease takes core's RequestOutcome, failures counted", () => {
    expectTypeOf<Parameters<ReturnType<Pool["acquire"]>["release"]>[0]>().toEqualTypeOf<
      RequestOutcome | undefined
    >();
    const pool = new Pool({ servers: [{ id: "a" }] });
    const outcome: RequestOutcome = { ok: false, latencyMs: 12, code: "ECONNRESET" };
    pool.acquire("a").release(outcome);
    expect(pool.get("a")!.stats).toMatchObject({ failed: 1, completed: 0, totalLatencyMs: 12 });
  });
});
