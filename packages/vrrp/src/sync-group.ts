/**
 * keepalived's vrrp_sync_group, fault half: a fault in one member puts every other member in fault (so a node
 * whose back-end link is down gives up the front VIP too), and clears when no member is in fault of its own.
 * keepalived also forces members to follow each other's master/backup transitions; that part is not
 * implemented here (members elect independently, so give them the same priorities and peers).
 */
import type { TransitionInfo, VrrpInstance } from "./instance.js";

export interface SyncGroup {
  readonly name: string;
  readonly members: readonly VrrpInstance[];
  /** detaches the group's listeners and clears the faults it set (members keep running) */
  close(): void;
}

export function createSyncGroup(name: string, members: readonly VrrpInstance[]): SyncGroup {
  const source = `sync-group:${name}`;
  const own = new Set<VrrpInstance>();
  const listeners: [VrrpInstance, "fault" | "backup" | "master", (i: TransitionInfo) => void][] = [];
  const update = () => {
    for (const m of members)
      m.setFault(
        source,
        [...own].some((x) => x !== m),
      );
  };
  for (const m of members) {
    const onFault = (i: TransitionInfo) => {
      // only a member's own fault propagates (not one the group itself caused)
      if (m.faultSources().some((s) => s !== source)) own.add(m);
      else return;
      if (i.state === "fault") update();
    };
    const onLeave = () => {
      if (own.delete(m)) update();
    };
    m.on("fault", onFault);
    m.on("backup", onLeave);
    m.on("master", onLeave);
    listeners.push([m, "fault", onFault], [m, "backup", onLeave], [m, "master", onLeave]);
  }
  return {
    name,
    members,
    close() {
      for (const [m, event, fn] of listeners) m.off(event, fn);
      for (const m of members) m.setFault(source, false);
    },
  };
}
