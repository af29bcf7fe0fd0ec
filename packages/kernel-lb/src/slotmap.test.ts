import { Pool } from "@lbkit/balancer";
import { describe, expect, it } from "vitest";
import { serviceConfig } from "./config.js";
import { transactionLine } from "./nft.js";
import type { NftCommand } from "./ruleset.js";
import { serviceUpdate } from "./slotmap.js";
import { computeTable } from "./table.js";

const servers = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `r${i}`,
    address: `198.18.${1 + (i >> 8)}.${i & 0xff}`,
    weight: 10,
  }));

function op(c: NftCommand): string {
  const [verb, body] = Object.entries(c)[0]!;
  const [kind, v] = Object.entries(body as object)[0]!;
  const o = v as { name?: string; chain?: string; elem?: unknown[] };
  return `${verb} ${kind} ${o.name ?? o.chain}${o.elem ? ` ×${o.elem.length}` : ""}`;
}

describe("serviceUpdate (named slot maps)", () => {
  it("the first change moves the slots into a named map; later ones touch only the buckets that move", () => {
    const pool = new Pool({ servers: servers(100) });
    const cfg = serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, scheduler: "sh", pool });
    const t0 = computeTable(cfg, undefined);
    pool.setWeight("r7", 20);
    const t1 = computeTable(cfg, true);
    const first = serviceUpdate("lbkit", t0, t1, undefined);
    expect(first.prelude).toEqual([
      { text: "add map inet lbkit v_web { typeof numgen inc mod 2 : verdict; }" },
    ]);
    expect(first.commands.map(op)).toEqual([
      "add element v_web ×4096",
      "flush chain svc_web",
      "add rule svc_web",
      "add rule svc_web",
    ]);
    expect(JSON.stringify(first.commands)).toContain('"data":"@v_web"');
    expect(first.content).toEqual(t1.slots.map((i) => t1.targets[i]!.chain));

    pool.setWeight("r8", 30);
    const t2 = computeTable(cfg, true);
    const second = serviceUpdate("lbkit", t1, t2, first.content);
    const moved = t2.slots.filter((s, i) => t2.targets[s]!.chain !== first.content![i]).length;
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(200); // r8 gains ~2 % of the buckets; everyone else keeps theirs
    expect(second.prelude).toEqual([]);
    expect(second.commands.map(op)).toEqual([
      `delete element v_web ×${moved}`,
      `add element v_web ×${moved}`,
    ]);
  });

  it("a member that goes: its elements change before its chain is deleted; a shorter table swaps the rule", () => {
    const pool = new Pool({ servers: servers(3) });
    const cfg = serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool });
    const t0 = computeTable(cfg, undefined);
    const a = serviceUpdate("lbkit", t0, t0, undefined);
    pool.setState("r1", "down");
    const t1 = computeTable(cfg, true);
    const b = serviceUpdate("lbkit", t0, t1, a.content);
    expect(b.commands.map(op)).toEqual([
      "delete element v_web ×2", // slots [r0 r1 r2] → [r0 r2]: slot 0 stays, slot 1 changes, slot 2 goes
      "add element v_web ×1",
      "flush chain svc_web",
      "add rule svc_web",
      "add rule svc_web",
      "flush chain m_web__198_2e18_2e1_2e1__80",
      "delete chain m_web__198_2e18_2e1_2e1__80",
    ]);
    expect(JSON.stringify(b.commands)).toContain('"numgen":{"mode":"inc","mod":2');
  });

  it("nothing usable empties the map (the rule returns); a removed service deletes its map", () => {
    const pool = new Pool({ servers: servers(2) });
    const cfg = serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool });
    const t0 = computeTable(cfg, undefined);
    const a = serviceUpdate("lbkit", t0, t0, undefined);
    for (const s of pool.servers) pool.setState(s.id, "down");
    const t1 = computeTable(cfg, true);
    const b = serviceUpdate("lbkit", t0, t1, a.content);
    expect(b.content).toEqual([]);
    expect(b.commands.map(op).slice(0, 3)).toEqual([
      "delete element v_web ×2",
      "flush chain svc_web",
      "add rule svc_web",
    ]);
    const gone = serviceUpdate("lbkit", t1, undefined, b.content);
    expect(gone.commands.map(op).at(-1)).toBe("delete map v_web");
    expect(gone.content).toBeUndefined();
  });

  it("a transaction is one JSON line, or one text line when it holds only text commands", () => {
    expect(transactionLine([{ add: { table: { family: "inet", name: "t" } } }])).toBe(
      '{"nftables":[{"add":{"table":{"family":"inet","name":"t"}}}]}',
    );
    expect(
      transactionLine([
        { text: "add table inet t" },
        { text: "add map inet t m { typeof numgen inc mod 2 : verdict; }" },
      ]),
    ).toBe("add table inet t; add map inet t m { typeof numgen inc mod 2 : verdict; }");
    expect(() => transactionLine([{ text: "add table inet t" }, { add: { table: {} } }])).toThrow(
      "mixes text and JSON",
    );
    expect(() => transactionLine([{ text: "add table inet t\nflush ruleset" }])).toThrow("newline");
  });
});
