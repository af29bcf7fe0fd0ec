/** The one state a pool sees, combining the health verdict, the agent's word and the admin state. */
import type { ServerState } from "@lbkit/core";

export interface StateInputs {
  /** The rise/fall verdict of the health check. */
  healthUp: boolean;
  /** The agent said down/fail/stopped (until it says up). */
  agentDown: boolean;
  /** The agent's administrative word; `ready` clears drain and maint. */
  admin: "ready" | "drain" | "maint" | undefined;
  /** Ejected by outlier detection. */
  ejected?: boolean;
}

/** MAINT beats DOWN beats DRAIN beats UP, as on HAProxy's stats page. */
export function effectiveState(i: StateInputs): ServerState {
  if (i.admin === "maint") return "maint";
  if (!i.healthUp || i.agentDown || i.ejected) return "down";
  if (i.admin === "drain") return "drain";
  return "up";
}
