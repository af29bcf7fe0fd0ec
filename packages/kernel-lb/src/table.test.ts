import { Pool } from "@lbkit/balancer";
import { describe, expect, it } from "vitest";
import { serviceConfig } from "./config.js";
import { KernelLbConfigError } from "./errors.js";
import { masqueradeCommands, serviceCommands, tableCommands } from "./ruleset.js";
import { computeTable } from "./table.js";

function pool() {
  return new Pool({
    algorithm: "roundrobin",
    servers: [
      { id: "r1", address: "198.18.0.21", weight: 1 },
      { id: "r2", address: "198.18.0.22", weight: 2 },
      { id: "r3", address: "198.18.0.23", port: 8080, weight: 3 },
      { id: "spare", address: "198.18.0.29", backup: true },
    ],
  });
}

describe("service config", () => {
  it("rejects bad options with the option, value and fix", () => {
    const p = pool();
    expect(() => serviceConfig({ id: "web", vip: "198.18.0.300", port: 80, pool: p })).toThrow(
      'kernel-lb: service.vip "198.18.0.300" must be an IPv4 or IPv6 address',
    );
    expect(() =>
      serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool: p, scheduler: "lc" as never }),
    ).toThrow(KernelLbConfigError);
    expect(() =>
      serviceConfig({
        id: "web",
        vip: "2001:db8::100",
        port: 80,
        pool: p,
        sorryServer: { address: "198.18.0.5" },
      }),
    ).toThrow("must be an IPv6 address (the VIP's family)");
    expect(() =>
      serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool: p, lb_algo: "rr" } as never),
    ).toThrow("service.lb_algo");
  });
});

describe("computeTable", () => {
  it("takes usable primaries by weight, each address:port once, ports defaulting to the service's", () => {
    const t = computeTable(
      serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool: pool() }),
      undefined,
    );
    expect(t.targets.map((x) => `${x.address}:${x.port}/${x.weight}`)).toEqual([
      "198.18.0.21:80/1",
      "198.18.0.22:80/2",
      "198.18.0.23:8080/3",
    ]);
    expect(t.slots.length).toBe(6);
    expect(t.up).toBe(true);
  });

  it("drops down, drained, maintenance and weight-0 servers; uses backups only when no primary is usable", () => {
    const p = pool();
    const cfg = serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool: p });
    p.setState("r1", "down");
    p.setState("r2", "drain");
    p.setWeight("r3", 0);
    let t = computeTable(cfg, true);
    expect(t.targets.map((x) => x.servers[0])).toEqual(["spare"]);
    p.setState("spare", "maint");
    t = computeTable(cfg, true);
    expect(t.targets).toEqual([]);
    expect(t.slots).toEqual([]);
  });

  it("quorum with hysteresis (keepalived): down below quorum − h, up again only at quorum + h; sorry server meanwhile", () => {
    const p = pool();
    const cfg = serviceConfig({
      id: "web",
      vip: "198.18.0.100",
      port: 80,
      pool: p,
      quorum: 4,
      hysteresis: 1,
      sorryServer: { address: "198.18.0.5" },
    });
    let t = computeTable(cfg, undefined); // weight 6
    expect(t.up).toBe(true);
    p.setState("r2", "down"); // 4: still ≥ quorum − h = 3
    t = computeTable(cfg, t.up);
    expect(t.up).toBe(true);
    p.setState("r1", "down"); // 3
    t = computeTable(cfg, t.up);
    expect(t.up).toBe(true);
    p.setWeight("r3", 2); // 2 < 3 → down
    t = computeTable(cfg, t.up);
    expect([t.up, t.sorry?.address, t.slots]).toEqual([false, "198.18.0.5", []]);
    p.setState("r1", "up"); // 3 < quorum + h = 5 → stays down
    t = computeTable(cfg, t.up);
    expect(t.up).toBe(false);
    p.setState("r2", "up"); // 5 → up
    t = computeTable(cfg, t.up);
    expect([t.up, t.sorry]).toEqual([true, undefined]);
  });

  it("reports members of the wrong family instead of programming them", () => {
    const p = new Pool({
      servers: [
        { id: "v6", address: "2001:db8::21" },
        { id: "v4", address: "198.18.0.21" },
      ],
    });
    const t = computeTable(serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool: p }), undefined);
    expect(t.targets.map((x) => x.address)).toEqual(["198.18.0.21"]);
    expect(t.problems[0]).toMatch(/"v6" address "2001:db8::21" is not an IPv4 address/);
  });
});

describe("ruleset", () => {
  it("a full table replaces what was there in one transaction", () => {
    const t = computeTable(
      serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool: pool(), masquerade: true }),
      undefined,
    );
    const cmds = tableCommands("lbkit", [t]);
    expect(cmds.slice(0, 3).map((c) => Object.keys(c)[0])).toEqual(["add", "delete", "add"]);
    const json = JSON.stringify(cmds);
    expect(json).toContain('"numgen":{"mode":"inc","mod":6');
    expect(json).toContain('"dnat":{"family":"ip","addr":"198.18.0.23","port":8080}');
    expect(json).toContain('{"concat":["198.18.0.100","tcp",80]}');
    expect(json).toContain('{"concat":["198.18.0.21","tcp",80]}'); // masquerade set
  });

  it("a change adds new target chains before the rule refers to them, and deletes old ones after", () => {
    const p = pool();
    const cfg = serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool: p, masquerade: true });
    const a = computeTable(cfg, undefined);
    p.setState("r1", "down");
    p.add({ id: "r4", address: "198.18.0.24" });
    const b = computeTable(cfg, true);
    const cmds = serviceCommands("lbkit", a, b);
    const ops = cmds.map((c) => {
      const [op, body] = Object.entries(c)[0]!;
      const [kind, v] = Object.entries(body as object)[0]!;
      return `${op} ${kind} ${(v as { name?: string; chain?: string }).name ?? (v as { chain: string }).chain}`;
    });
    expect(ops).toEqual([
      "add chain m_web__198_2e18_2e0_2e24__80",
      "add rule m_web__198_2e18_2e0_2e24__80",
      "flush chain svc_web",
      "add rule svc_web",
      "add rule svc_web",
      "flush chain m_web__198_2e18_2e0_2e21__80",
      "delete chain m_web__198_2e18_2e0_2e21__80",
    ]);
    // the map rule, then a set-free goto to the first slot's target for a packet that misses the retired map
    const svcRules = cmds.filter(
      (c) => (c as { add?: { rule?: { chain: string } } }).add?.rule?.chain === "svc_web",
    );
    expect(JSON.stringify(svcRules[0])).toContain('"vmap"');
    const first = b.targets[b.slots[0]!]!.chain;
    expect(svcRules[1]).toEqual({
      add: {
        rule: { family: "inet", table: "lbkit", chain: "svc_web", expr: [{ goto: { target: first } }] },
      },
    });
    const masq = JSON.stringify(masqueradeCommands("lbkit", [a], [b]));
    expect(masq).toContain('"delete":{"element"');
    expect(masq).toContain("198.18.0.24");
  });

  it("nothing usable and no sorry server: the service's flows are not balanced (return)", () => {
    const p = new Pool({ servers: [{ id: "r1", address: "198.18.0.21", state: "down" }] });
    const t = computeTable(serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool: p }), undefined);
    expect(JSON.stringify(serviceCommands("lbkit", undefined, t))).toContain('"expr":[{"return":null}]');
  });
});
