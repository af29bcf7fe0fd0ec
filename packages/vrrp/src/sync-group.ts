/**
 * keepalived's vrrp_sync_group: instances (say a front and a back VIP) that change state together, so the
 * group's VIPs always sit on one node.
 * - A fault in one member puts every other member in fault (cleared when no member has a fault of its own). Who
 *   has a fault of its own is read from the members (`faultSources()`) at every transition, not remembered from
 *   fault events: a member whose own check fails while the group already holds it in fault makes no transition.
 * - A member never takes over alone: when its Master_Down_Timer fires it becomes `ready` and waits; once every
 *   member is master or ready, all become master together (keepalived prefers backup to thrashing, so a group
 *   whose members disagree stays where it is — track the group's health with one tracker on every member).
 * - A member that becomes master forces the others to master; a master that loses to a peer (higher priority,
 *   tie, handover) forces the other masters back to backup — after a handover with priority-0 adverts, so the
 *   peers take the whole group after Skew_Time. A master member that is stopped alone does the same; the
 *   group cannot take over again on this node until that member runs again.
 */
import type { TransitionInfo, VrrpInstance } from "./instance.js";

export interface SyncGroup {
  readonly name: string;
  readonly members: readonly VrrpInstance[];
  /** detaches the group (members keep running, elect alone again, and lose the faults the group set) */
  close(): void;
}

const LOST: ReadonlySet<string> = new Set(["higher-priority", "equal-priority-higher-address", "handover"]);

export function createSyncGroup(name: string, members: readonly VrrpInstance[]): SyncGroup {
  const source = `sync-group:${name}`;
  const off: (() => void)[] = [];
  /** a fault not set by this group: a tracker, the witness, another setFault source */
  const hasOwnFault = (m: VrrpInstance) => m.faultSources().some((s) => s !== source);
  const updateFaults = () => {
    const own = members.filter(hasOwnFault);
    for (const m of members)
      m.setFault(
        source,
        own.some((x) => x !== m),
      );
  };
  const allReady = () => members.every((x) => x.state === "master" || x.ready);
  for (const m of members) {
    m.setSyncHold(true);
    const others = members.filter((x) => x !== m);
    const onFault = () => {
      // only a member's own fault propagates (not one the group itself caused)
      if (hasOwnFault(m)) updateFaults();
    };
    const onMaster = (i: TransitionInfo) => {
      updateFaults();
      if (i.reason === "sync-group") return;
      for (const o of others) if (o.state === "backup") o.syncTo("master");
    };
    const onBackup = (i: TransitionInfo) => {
      // e.g. a member's fault cleared: release the others, or hold this one if another member still has its own
      updateFaults();
      // a member that handed over resigned with priority 0: the others resign too, so the peer group takes every
      // VRID after Skew_Time (leaving silently would make it wait a Master_Down_Interval with no VIP held)
      if (i.from === "master" && LOST.has(i.reason))
        for (const o of others)
          if (o.state === "master") o.syncTo("backup", { resign: i.reason === "handover" });
    };
    const onStop = (i: TransitionInfo) => {
      // a master member stopped alone (priority 0 sent, VIP removed): its peer is held until the peer group is
      // whole, so the others resign too and the peer group takes every VIP (none left unowned)
      if (i.from === "master")
        for (const o of others) if (o.state === "master") o.syncTo("backup", { resign: true });
    };
    const onReady = () => {
      if (!allReady()) return;
      for (const x of members) if (x.state === "backup") x.syncTo("master");
    };
    m.on("fault", onFault);
    m.on("master", onMaster);
    m.on("backup", onBackup);
    m.on("ready", onReady);
    m.on("stop", onStop);
    off.push(() => {
      m.off("fault", onFault);
      m.off("master", onMaster);
      m.off("backup", onBackup);
      m.off("ready", onReady);
      m.off("stop", onStop);
    });
  }
  return {
    name,
    members,
    close() {
      for (const f of off) f();
      for (const m of members) {
        m.setSyncHold(false);
        m.setFault(source, false);
      }
    },
  };
}
