/**
 * Pure: service tables → nftables JSON commands (the `nft -j` schema), as kube-proxy's nftables mode does it.
 *
 * One `inet` table owned by lbkit holds the NAT services (LVS-NAT):
 * - maps `services4`/`services6`: `vip . l4proto . port : goto svc_<id>` (looked up in nat prerouting and output);
 * - per service a chain `svc_<id>`: `numgen inc mod N vmap { slot : goto m_… }` (rr, wrr) or
 *   `jhash ip saddr mod N vmap { … }` (sh), then a set-free `goto` to the first slot's target (see serviceRules);
 *   no usable target → the flow is not balanced (`return`);
 * - per real-server target a chain `m_<id>__<addr>__<port>` that DNATs to it;
 * - sets `masq4`/`masq6` of target `addr . l4proto . port` masqueraded in nat postrouting (LVS-NAT without a route
 *   back).
 * A `netdev` table of the same name holds the direct-return services (LVS-DR): the same maps, service chains and
 * one target chain per real server, hooked at `ingress` of each service's device (a base chain `in_<device>`), where
 * a target chain forwards the packet unchanged to the real server's MAC (`fwd ip to <addr> device <dev>`: the
 * kernel resolves the neighbour and rewrites only the Ethernet header). Ingress runs before conntrack, so every
 * packet is mapped, not only a flow's first: DR services hash the flow (`jhash ip saddr . th sport`, or `ip saddr`
 * for sh) into consistent buckets, so a packet of a flow always meets the same server while the map holds.
 * NAT only ever sees a flow's first packet, so established flows keep their server through conntrack whatever the
 * maps become. A change of one service is one transaction that adds new target chains, swaps the service's rule
 * (flush + add), and deletes chains no longer referenced: packets see the old rules or the new ones, never a gap.
 */
import type { Family } from "@lbkit/core";
import { chainName, type ServiceTable, type Target } from "./table.js";

export type NftCommand = Record<string, unknown>;

export type TableFamily = "inet" | "netdev";

export function familyOf(s: ServiceTable): TableFamily {
  return s.kind === "dr" ? "netdev" : "inet";
}

function ipFamily(f: Family): "ip" | "ip6" {
  return f === 4 ? "ip" : "ip6";
}

export function servicesMap(f: Family): string {
  return f === 4 ? "services4" : "services6";
}

function masqSet(f: Family): string {
  return f === 4 ? "masq4" : "masq6";
}

export function chainRef(family: TableFamily, table: string, name: string) {
  return { family, table, name };
}

function l4(protocol: string) {
  return { match: { op: "==", left: { meta: { key: "l4proto" } }, right: protocol } };
}

export function targetRule(table: string, s: ServiceTable, t: Target): NftCommand {
  const expr =
    s.kind === "dr"
      ? [{ fwd: { dev: s.device, family: ipFamily(s.family), addr: t.address } }]
      : [l4(s.protocol), { dnat: { family: ipFamily(s.family), addr: t.address, port: t.port } }];
  return { add: { rule: { family: familyOf(s), table, chain: t.chain, expr } } };
}

/**
 * The service chain's rules. The map rule is followed by a plain `goto` to the first slot's target: the kernel reads
 * a rule generation when a packet enters the chains but checks set elements against the generation current at the
 * lookup, and flushing the old rule marks its anonymous map's elements inactive in the next generation — a packet
 * evaluating the old rule while the commit lands misses the map entirely (measured: 3–14 of ~18,000 new flows
 * during 10,000 rewrites reached the director's own stack un-translated and were refused). The fallback has no set,
 * so such a packet still goes to a target of the old map.
 */
export function serviceRules(table: string, s: ServiceTable, map?: string): NftCommand[] {
  let expr: unknown[];
  let fallback: unknown[] | undefined;
  if (s.sorry) expr = [{ goto: { target: s.sorry.chain } }];
  else if (s.slots.length === 0) expr = [{ return: null }];
  else {
    const set = map
      ? `@${map}`
      : { set: s.slots.map((t, i) => [i, { goto: { target: s.targets[t]!.chain } }]) };
    const saddr = { payload: { protocol: ipFamily(s.family), field: "saddr" } };
    const key =
      s.mode === "numgen"
        ? { numgen: { mode: "inc", mod: s.slots.length, offset: 0 } }
        : {
            jhash: {
              mod: s.slots.length,
              seed: 0x6c626b74,
              expr:
                s.hash === "source"
                  ? saddr
                  : { concat: [saddr, { payload: { protocol: "th", field: "sport" } }] },
            },
          };
    expr = [{ vmap: { key, data: set } }];
    fallback = [{ goto: { target: s.targets[s.slots[0]!]!.chain } }];
  }
  const rule = (e: unknown[]): NftCommand => ({
    add: { rule: { family: familyOf(s), table, chain: s.chain, expr: e } },
  });
  return fallback ? [rule(expr), rule(fallback)] : [rule(expr)];
}

export function serviceKey(s: ServiceTable) {
  return { concat: [s.vip, s.protocol, s.port] };
}

export function targetsOf(s: ServiceTable): Target[] {
  return s.sorry ? [...s.targets, s.sorry] : s.targets;
}

function masqElems(s: ServiceTable): unknown[] {
  if (!s.masquerade) return [];
  return targetsOf(s).map((t) => ({ concat: [t.address, s.protocol, t.port] }));
}

/**
 * Masquerade set changes between two sets of services, diffed over the union (two services may share a target).
 */
export function masqueradeCommands(
  table: string,
  prev: readonly ServiceTable[],
  next: readonly ServiceTable[],
): NftCommand[] {
  const out: NftCommand[] = [];
  for (const f of [4, 6] as const) {
    const union = (list: readonly ServiceTable[]) =>
      new Set(list.filter((s) => s.family === f).flatMap((s) => masqElems(s).map((e) => JSON.stringify(e))));
    const before = union(prev);
    const after = union(next);
    const gone = [...before].filter((e) => !after.has(e)).map((e) => JSON.parse(e) as unknown);
    const added = [...after].filter((e) => !before.has(e)).map((e) => JSON.parse(e) as unknown);
    if (gone.length) out.push({ delete: { element: element("inet", table, masqSet(f), gone) } });
    if (added.length) out.push({ add: { element: element("inet", table, masqSet(f), added) } });
  }
  return out;
}

export function element(family: TableFamily, table: string, name: string, elem: unknown[]) {
  return { family, table, name, elem };
}

function deviceChain(device: string): string {
  return chainName("in", device);
}

function devicesOf(services: readonly ServiceTable[]): Set<string> {
  return new Set(services.flatMap((s) => (s.kind === "dr" && s.device ? [s.device] : [])));
}

function serviceKeyExpr(f: Family) {
  return {
    concat: [
      { payload: { protocol: ipFamily(f), field: "daddr" } },
      { meta: { key: "l4proto" } },
      { payload: { protocol: "th", field: "dport" } },
    ],
  };
}

/**
 * The netdev ingress base chains of the DR services' devices, diffed: one per device, looking packets up in the
 * netdev table's service maps.
 */
export function deviceCommands(
  table: string,
  prev: readonly ServiceTable[],
  next: readonly ServiceTable[],
): NftCommand[] {
  const out: NftCommand[] = [];
  const before = devicesOf(prev);
  const after = devicesOf(next);
  for (const dev of after) {
    if (before.has(dev)) continue;
    const ref = chainRef("netdev", table, deviceChain(dev));
    out.push({ add: { chain: { ...ref, type: "filter", hook: "ingress", dev, prio: 0, policy: "accept" } } });
    for (const f of [4, 6] as const)
      out.push({
        add: {
          rule: {
            ...noName(ref),
            chain: ref.name,
            expr: [{ vmap: { key: serviceKeyExpr(f), data: `@${servicesMap(f)}` } }],
          },
        },
      });
  }
  for (const dev of before) {
    if (after.has(dev)) continue;
    const ref = chainRef("netdev", table, deviceChain(dev));
    out.push({ flush: { chain: ref } }, { delete: { chain: ref } });
  }
  return out;
}

function noName(ref: { family: TableFamily; table: string }) {
  return { family: ref.family, table: ref.table };
}

/**
 * The whole program, replacing whatever tables of that name hold (also what a crashed run left): one transaction.
 * The `inet` table holds the NAT services, the `netdev` table of the same name the DR services.
 */
export function tableCommands(table: string, services: readonly ServiceTable[]): NftCommand[] {
  const out: NftCommand[] = [];
  for (const family of ["inet", "netdev"] as const)
    out.push(
      { add: { table: { family, name: table } } },
      { delete: { table: { family, name: table } } },
      { add: { table: { family, name: table } } },
    );
  for (const f of [4, 6] as const) {
    const addr = f === 4 ? "ipv4_addr" : "ipv6_addr";
    const type = [addr, "inet_proto", "inet_service"];
    for (const family of ["inet", "netdev"] as const)
      out.push({ add: { map: { family, table, name: servicesMap(f), type, map: "verdict" } } });
    out.push({ add: { set: { family: "inet", table, name: masqSet(f), type } } });
  }
  for (const s of services) out.push(...serviceCommands(table, undefined, s));
  out.push(...masqueradeCommands(table, [], services));
  out.push(...deviceCommands(table, [], services));
  for (const [name, hook, prio] of [
    ["prerouting", "prerouting", -100],
    ["output", "output", -100],
    ["postrouting", "postrouting", 100],
  ] as const) {
    out.push({
      add: { chain: { ...chainRef("inet", table, name), type: "nat", hook, prio, policy: "accept" } },
    });
    for (const f of [4, 6] as const) {
      const key = serviceKeyExpr(f);
      const expr =
        name === "postrouting"
          ? [
              { match: { op: "in", left: { ct: { key: "status" } }, right: "dnat" } },
              { match: { op: "==", left: key, right: `@${masqSet(f)}` } },
              { masquerade: null },
            ]
          : [{ vmap: { key, data: `@${servicesMap(f)}` } }];
      out.push({ add: { rule: { family: "inet", table, chain: name, expr } } });
    }
  }
  return out;
}

/**
 * The transaction that turns service `prev` into `next` (either may be undefined: a service added or removed).
 * Empty when nothing changes.
 */
export function serviceCommands(
  table: string,
  prev: ServiceTable | undefined,
  next: ServiceTable | undefined,
): NftCommand[] {
  if (prev && next && prev.kind !== next.kind)
    return [...serviceCommands(table, prev, undefined), ...serviceCommands(table, undefined, next)];
  const out: NftCommand[] = [];
  const before = new Map((prev ? targetsOf(prev) : []).map((t) => [t.chain, t]));
  const after = new Map((next ? targetsOf(next) : []).map((t) => [t.chain, t]));
  const family = familyOf((next ?? prev)!);
  const ref = (name: string) => chainRef(family, table, name);
  // 1. new target chains, so the new rule can refer to them
  if (next) {
    for (const [chain, t] of after) {
      if (before.has(chain) && prev?.device === next.device) continue;
      if (before.has(chain)) out.push({ flush: { chain: ref(chain) } });
      else out.push({ add: { chain: ref(chain) } });
      out.push(targetRule(table, next, t));
    }
    if (!prev) out.push({ add: { chain: ref(next.chain) } });
    else out.push({ flush: { chain: ref(next.chain) } });
    out.push(...serviceRules(table, next));
  }
  // 2. the service map
  const prevKey = prev && JSON.stringify(serviceKey(prev));
  const nextKey = next && JSON.stringify(serviceKey(next));
  if (prev && prevKey !== nextKey)
    out.push({ delete: { element: element(family, table, servicesMap(prev.family), [serviceKey(prev)]) } });
  if (next && prevKey !== nextKey)
    out.push({
      add: {
        element: element(family, table, servicesMap(next.family), [
          [serviceKey(next), { goto: { target: next.chain } }],
        ]),
      },
    });
  // 3. chains nothing refers to any more
  if (prev && !next) out.push({ flush: { chain: ref(prev.chain) } }, { delete: { chain: ref(prev.chain) } });
  for (const [chain] of before) {
    if (after.has(chain)) continue;
    out.push({ flush: { chain: ref(chain) } }, { delete: { chain: ref(chain) } });
  }
  return out;
}

/** Deletes the tables and everything in them (add first, so that deleting a table that is not there is no error). */
export function removeCommands(table: string): NftCommand[] {
  return (["inet", "netdev"] as const).flatMap((family) => [
    { add: { table: { family, name: table } } },
    { delete: { table: { family, name: table } } },
  ]);
}
