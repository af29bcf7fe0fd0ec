import { describe, expect, it } from "vitest";
import { bindsServer, hasRoom, nextWaiter, placeBound, whenServerQueueFull } from "./placement.js";

const slot = (inFlight: number, maxConn: number, queued = 0, maxQueue = 0) => ({
  inFlight,
  maxConn,
  queued,
  maxQueue,
});

describe("per-server queue decisions", () => {
  it("takes a slot below maxconn only while nobody waits in the server's queue", () => {
    expect(hasRoom(slot(5, 0, 3))).toBe(true); // no limit
    expect(hasRoom(slot(1, 2))).toBe(true);
    expect(hasRoom(slot(1, 2, 1))).toBe(false); // would overtake the queue
    expect(hasRoom(slot(2, 2))).toBe(false);
  });

  it("queues a bound request at maxconn until the server's maxqueue", () => {
    expect(placeBound(slot(0, 1))).toBe("take");
    expect(placeBound(slot(1, 1))).toBe("queue");
    expect(placeBound(slot(1, 1, 1, 2))).toBe("queue");
    expect(placeBound(slot(1, 1, 2, 2))).toBe("full");
    expect(placeBound(slot(1, 1, 1000, 0))).toBe("queue"); // maxqueue 0: unbounded
    expect(placeBound(slot(0, 1, 1, 2))).toBe("queue"); // a slot, but others wait first
  });

  it("redispatches from a full server queue only a persisted request with option redispatch", () => {
    expect(whenServerQueueFull(true, -1)).toBe("redispatch");
    expect(whenServerQueueFull(true, 2)).toBe("redispatch");
    expect(whenServerQueueFull(true, 0)).toBe("refuse");
    expect(whenServerQueueFull(false, -1)).toBe("refuse"); // a hash would choose the same server again
  });

  it("serves the older of the server's and the backend's queue heads", () => {
    expect(nextWaiter(undefined, undefined)).toBeUndefined();
    expect(nextWaiter({ order: 3 }, undefined)).toBe("server");
    expect(nextWaiter(undefined, { order: 3 })).toBe("backend");
    expect(nextWaiter({ order: 3 }, { order: 2 })).toBe("backend");
    expect(nextWaiter({ order: 2 }, { order: 3 })).toBe("server");
  });

  it("knows which balance algorithms designate a server", () => {
    for (const b of [
      "source",
      "uri depth 2",
      "url_param(id)",
      "hdr(host)",
      "rdp-cookie",
      "hash",
      "maglev",
      "jump",
    ])
      expect(bindsServer(b)).toBe(true);
    for (const b of ["roundrobin", "static-rr", "leastconn", "first", "random(2)", "peak-ewma"])
      expect(bindsServer(b)).toBe(false);
    expect(bindsServer({ name: "mine", create: () => ({}) as never })).toBe(false);
  });
});
