import { Pool } from "@lbkit/balancer";
import { describe, expect, it } from "vitest";
import { serviceConfig, type VirtualServiceOptions } from "./config.js";
import { KernelLbConfigError } from "./errors.js";
import {
  deviceCommands,
  masqueradeCommands,
  removeCommands,
  serviceCommands,
  tableCommands,
} from "./ruleset.js";
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

const dr = (o: Partial<VirtualServiceOptions> = {}) =>
  serviceConfig({
    id: "web",
    vip: "198.18.0.100",
    port: 80,
    pool: pool(),
    lbKind: "dr",
    device: "eth0",
    ...o,
  });

describe("LVS-DR (lbKind dr)", () => {
  it("needs a device, refuses masquerade and a sorry server on another port, and a device without dr", () => {
    expect(() => dr({ device: undefined })).toThrow(
      "kernel-lb: service.device undefined must name the interface the VIP arrives on",
    );
    expect(() => dr({ device: "eth0; drop" })).toThrow("service.device");
    expect(() => dr({ masquerade: true })).toThrow('service.masquerade true must be false with lbKind "dr"');
    expect(() => dr({ sorryServer: { address: "198.18.0.5", port: 8080 } })).toThrow(
      "service.sorryServer.port 8080 must be the service's port 80",
    );
    expect(() =>
      serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool: pool(), device: "eth0" }),
    ).toThrow('service.device "eth0" is only for lbKind "dr"');
    expect(() => dr({ lbKind: "tun" as never })).toThrow("service.lbKind");
  });

  it("leaves out a real server on another port (the packet is forwarded unchanged) and hashes flows", () => {
    const t = computeTable(dr(), undefined);
    expect(t.targets.map((x) => x.address)).toEqual(["198.18.0.21", "198.18.0.22"]);
    expect(t.problems).toEqual([
      'server "r3" port 8080 is not the service\'s port 80 (direct return cannot change it)',
    ]);
    expect(t).toMatchObject({ kind: "dr", device: "eth0", mode: "jhash", hash: "flow" });
    expect(t.slots).toHaveLength(4096);
    // weighted consistent buckets: r2 (weight 2) owns about twice r1's
    const r2 = t.slots.filter((s) => s === 1).length / t.slots.length;
    expect(r2).toBeGreaterThan(0.55);
    expect(r2).toBeLessThan(0.78);
    expect(computeTable(dr({ scheduler: "sh" }), undefined).hash).toBe("source");
  });

  it("programs a netdev table: fwd to the real server on the device, an ingress chain per device", () => {
    const t = computeTable(dr(), undefined);
    const cmds = tableCommands("lbkit", [t]);
    const json = JSON.stringify(cmds);
    expect(json).toContain('{"add":{"table":{"family":"netdev","name":"lbkit"}}}');
    expect(json).toContain('"fwd":{"dev":"eth0","family":"ip","addr":"198.18.0.22"}');
    expect(json).not.toContain('"dnat":{"family":"ip","addr":"198.18.0.22"');
    expect(json).toContain(
      '"jhash":{"mod":4096,"seed":1818389364,"expr":{"concat":[{"payload":{"protocol":"ip","field":"saddr"}},{"payload":{"protocol":"th","field":"sport"}}]}}',
    );
    expect(cmds).toContainEqual({
      add: {
        chain: {
          family: "netdev",
          table: "lbkit",
          name: "in_eth0",
          type: "filter",
          hook: "ingress",
          dev: "eth0",
          prio: 0,
          policy: "accept",
        },
      },
    });
    expect(cmds).toContainEqual({
      add: {
        element: {
          family: "netdev",
          table: "lbkit",
          name: "services4",
          elem: [[{ concat: ["198.18.0.100", "tcp", 80] }, { goto: { target: "svc_web" } }]],
        },
      },
    });
    expect(removeCommands("lbkit")).toHaveLength(4);
  });

  it("a device's ingress chain comes with its first service and goes with its last", () => {
    const a = computeTable(dr(), undefined);
    const b = computeTable(dr({ id: "b", port: 81, device: "eth1" }), undefined);
    const names = (cmds: object[]) =>
      cmds.map((c) => {
        const [op, body] = Object.entries(c)[0]!;
        const [kind, v] = Object.entries(body as object)[0]!;
        return `${op} ${kind} ${(v as { name?: string; chain?: string }).name ?? (v as { chain: string }).chain}`;
      });
    expect(names(deviceCommands("lbkit", [a], [a, b]))).toEqual([
      "add chain in_eth1",
      "add rule in_eth1",
      "add rule in_eth1",
    ]);
    expect(names(deviceCommands("lbkit", [a, b], [b]))).toEqual([
      "flush chain in_eth0",
      "delete chain in_eth0",
    ]);
    expect(deviceCommands("lbkit", [a], [a])).toEqual([]);
  });

  it("a service that changes kind leaves one table and enters the other", () => {
    const p = pool();
    const nat = computeTable(serviceConfig({ id: "web", vip: "198.18.0.100", port: 80, pool: p }), undefined);
    const d = computeTable(dr({ pool: p }), undefined);
    const cmds = serviceCommands("lbkit", nat, d);
    const families = cmds.map((c) => {
      const body = Object.values(c)[0] as object;
      return (Object.values(body)[0] as { family: string }).family;
    });
    expect(families.indexOf("netdev")).toBeGreaterThan(families.lastIndexOf("inet"));
    expect(JSON.stringify(cmds)).toContain(
      '{"delete":{"chain":{"family":"inet","table":"lbkit","name":"svc_web"}}}',
    );
  });
});
