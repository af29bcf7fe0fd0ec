/**
 * Pure: incremental changes of a service through a named slot map.
 *
 * A service is first programmed with its slots inline (an anonymous vmap in its rule: `tableCommands`, a new
 * service). Its first change moves the slots into a named map `v_<id>` (`typeof numgen inc mod 2 : verdict`), and
 * every later change only deletes and adds the elements whose target changed, in the same single transaction as the
 * new target chains and the deletion of chains nothing refers to; the service's rule is swapped only when the
 * number of slots (the `mod`), the first slot's target (the set-free fallback) or the sorry/return state changes
 * (while a sorry server or `return` stands in, the map is emptied).
 * A weight change of one of 10,000 sh members then touches a handful of buckets instead of rewriting 65,536.
 * Packets see the old element or the new one, never a missing one: a deleted element stays active in the old
 * generation, and no anonymous map is retired under a packet still evaluating the old rule.
 *
 * nft 1.0.6's JSON cannot declare a map keyed by a plain 32-bit integer (`type integer` is refused as unqualified,
 * `typeof` has no JSON form), so creating the named map is a text command, run as a transaction of its own before
 * the change (`prelude`): an empty map nothing refers to yet, so that step changes no packet's path.
 */
import {
  chainRef,
  element,
  familyOf,
  type NftCommand,
  serviceCommands,
  serviceKey,
  serviceRules,
  servicesMap,
  targetRule,
  targetsOf,
} from "./ruleset.js";
import { chainName, type ServiceTable } from "./table.js";

/** A text-syntax nft command (the `Nft` runner sends a transaction made only of these as one text line). */
export type NftTextCommand = { text: string };

/** What `serviceUpdate` returns: the transactions of one service's change and its named map's content after. */
export interface ServiceUpdate {
  /** text commands to apply first, as their own transaction (the named map's creation) */
  prelude: NftTextCommand[];
  /** the change, one transaction */
  commands: NftCommand[];
  /** the named map's elements afterwards (target chain per slot), undefined when the service has none */
  content: string[] | undefined;
}

/** The name of a service's named slot map (`v_<id>`, escaped as chain names are). */
export function slotMapName(s: ServiceTable): string {
  return chainName("v", s.id);
}

/**
 * The transaction(s) turning `prev` into `next`, given what the service's named map holds (`content`, undefined
 * when it has none). New and removed services, and a change of `lbKind`, are programmed inline (`serviceCommands`).
 */
export function serviceUpdate(
  table: string,
  prev: ServiceTable | undefined,
  next: ServiceTable | undefined,
  content: readonly string[] | undefined,
): ServiceUpdate {
  if (!prev || !next || prev.kind !== next.kind) {
    const commands = serviceCommands(table, prev, next);
    if (prev && content)
      commands.push({ delete: { map: { family: familyOf(prev), table, name: slotMapName(prev) } } });
    return { prelude: [], commands, content: undefined };
  }
  const family = familyOf(next);
  const map = slotMapName(next);
  const ref = (name: string) => chainRef(family, table, name);
  const prelude = content
    ? []
    : [{ text: `add map ${family} ${table} ${map} { typeof numgen inc mod 2 : verdict; }` }];
  const out: NftCommand[] = [];
  const before = new Map(targetsOf(prev).map((t) => [t.chain, t]));
  const after = new Map(targetsOf(next).map((t) => [t.chain, t]));
  // 1. new target chains (and the ones whose device changed), before anything refers to them
  for (const [chain, t] of after) {
    if (before.has(chain) && prev.device === next.device) continue;
    out.push(before.has(chain) ? { flush: { chain: ref(chain) } } : { add: { chain: ref(chain) } });
    out.push(targetRule(table, next, t));
  }
  // 2. the elements that change (all of them go while a sorry server or `return` stands in: the rule does not
  //    read the map then, and the target chains its elements name may be deleted below)
  const old = content ?? [];
  const want = next.sorry ? [] : next.slots.map((i) => next.targets[i]!.chain);
  const gone: unknown[] = [];
  const added: unknown[] = [];
  for (let i = 0; i < Math.max(old.length, want.length); i++) {
    if (old[i] === want[i]) continue;
    if (i < old.length) gone.push(i);
    if (i < want.length) added.push([i, { goto: { target: want[i] } }]);
  }
  if (gone.length) out.push({ delete: { element: element(family, table, map, gone) } });
  if (added.length) out.push({ add: { element: element(family, table, map, added) } });
  // 3. the rule, when it reads differently (it always does when the slots were inline before)
  const rules = serviceRules(table, next, map);
  if (!content || JSON.stringify(serviceRules(table, prev, map)) !== JSON.stringify(rules))
    out.push({ flush: { chain: ref(next.chain) } }, ...rules);
  // 4. the service map, should the key have changed
  const prevKey = JSON.stringify(serviceKey(prev));
  if (prevKey !== JSON.stringify(serviceKey(next))) {
    out.push({ delete: { element: element(family, table, servicesMap(prev.family), [serviceKey(prev)]) } });
    out.push({
      add: {
        element: element(family, table, servicesMap(next.family), [
          [serviceKey(next), { goto: { target: next.chain } }],
        ]),
      },
    });
  }
  // 5. target chains nothing refers to any more (their elements and rules are gone above)
  for (const [chain] of before)
    if (!after.has(chain)) out.push({ flush: { chain: ref(chain) } }, { delete: { chain: ref(chain) } });
  return { prelude, commands: out, content: want };
}
