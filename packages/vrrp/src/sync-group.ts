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
 * The group has no I/O: start() attaches it to its members, stop() detaches it (members keep running, elect alone
 * again, and lose the faults the group set). The members are the caller's: the group never starts or stops them.
 */
import type { VrrpInstance } from "./instance.js";
import type { VrrpChange } from "./instance-types.js";

export interface SyncGroupOptions {
  /** keepalived's group name */
  id: string;
  members: readonly VrrpInstance[];
}

const LOST: ReadonlySet<string> = new Set(["higher-priority", "equal-priority-higher-address", "handover"]);

export class SyncGroup {
  readonly id: string;
  readonly members: readonly VrrpInstance[];
  private off: (() => void)[] = [];

  constructor(o: SyncGroupOptions) {
    this.id = o.id;
    this.members = [...o.members];
  }

  private get source(): string {
    return `sync-group:${this.id}`;
  }

  /** Attaches the group to its members (call before or after they start). */
  async start(): Promise<void> {
    if (this.off.length) return;
    const { members, source } = this;
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
      const onChange = (c: VrrpChange) => {
        switch (c.to) {
          case "fault":
            // only a member's own fault propagates (not one the group itself caused)
            if (hasOwnFault(m)) updateFaults();
            return;
          case "master":
            updateFaults();
            if (c.reason === "sync-group") return;
            for (const o of others) if (o.state === "backup") o.syncTo("master");
            return;
          case "backup":
            // e.g. a member's fault cleared: release the others, or hold this one if another member still has
            // its own; a member that handed over resigned with priority 0: the others resign too, so the peer
            // group takes every VRID after Skew_Time (leaving silently would make it wait a Master_Down_Interval)
            updateFaults();
            if (c.from === "master" && LOST.has(c.reason))
              for (const o of others)
                if (o.state === "master") o.syncTo("backup", { resign: c.reason === "handover" });
            return;
          case "initialize":
            // a master member stopped alone (priority 0 sent, VIP removed): its peer is held until the peer
            // group is whole, so the others resign too and the peer group takes every VIP (none left unowned)
            if (c.from === "master")
              for (const o of others) if (o.state === "master") o.syncTo("backup", { resign: true });
            return;
        }
      };
      const onReady = () => {
        if (!allReady()) return;
        for (const x of members) if (x.state === "backup") x.syncTo("master");
      };
      m.on("change", onChange);
      m.on("ready", onReady);
      this.off.push(() => {
        m.off("change", onChange);
        m.off("ready", onReady);
      });
    }
  }

  /** Detaches the group: members elect alone again and lose the faults the group set. */
  async stop(): Promise<void> {
    const off = this.off;
    this.off = [];
    if (!off.length) return;
    for (const f of off) f();
    for (const m of this.members) {
      m.setSyncHold(false);
      m.setFault(this.source, false);
    }
  }
}
