/**
 * keepalived's vrrp_sync_group: instances (say a front and a back VIP) that change state together, so the
 * group's VIPs always sit on one node.
 * - A fault in one member puts every other member in fault (cleared when no member has a fault of its own).
 * - A member never takes over alone: when its Master_Down_Timer fires it becomes `ready` and waits; once every
 *   member is master or ready, all become master together (keepalived prefers backup to thrashing, so a group
 *   whose members disagree stays where it is — track the group's health with one tracker on every member).
 * - A member that becomes master forces the others to master; a master that loses to a peer (higher priority,
 *   tie, handover) forces the other masters back to backup.
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
  const own = new Set<VrrpInstance>();
  const off: (() => void)[] = [];
  const updateFaults = () => {
    for (const m of members)
      m.setFault(
        source,
        [...own].some((x) => x !== m),
      );
  };
  const allReady = () => members.every((x) => x.state === "master" || x.ready);
  for (const m of members) {
    m.setSyncHold(true);
    const others = members.filter((x) => x !== m);
    const onFault = (i: TransitionInfo) => {
      // only a member's own fault propagates (not one the group itself caused)
      if (!m.faultSources().some((s) => s !== source)) return;
      own.add(m);
      if (i.state === "fault") updateFaults();
    };
    const onMaster = (i: TransitionInfo) => {
      if (own.delete(m)) updateFaults();
      if (i.reason === "sync-group") return;
      for (const o of others) if (o.state === "backup") o.syncTo("master");
    };
    const onBackup = (i: TransitionInfo) => {
      if (own.delete(m)) updateFaults();
      if (i.from === "master" && LOST.has(i.reason))
        for (const o of others) if (o.state === "master") o.syncTo("backup");
    };
    const onReady = () => {
      if (!allReady()) return;
      for (const x of members) if (x.state === "backup") x.syncTo("master");
    };
    m.on("fault", onFault);
    m.on("master", onMaster);
    m.on("backup", onBackup);
    m.on("ready", onReady);
    off.push(() => {
      m.off("fault", onFault);
      m.off("master", onMaster);
      m.off("backup", onBackup);
      m.off("ready", onReady);
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
