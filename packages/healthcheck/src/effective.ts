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
  return stateOf(i.healthUp, i.agentDown, i.admin, i.ejected === true);
}

/** {@link effectiveState} without an inputs object (the shell calls it after every check). */
export function stateOf(
  healthUp: boolean,
  agentDown: boolean,
  admin: StateInputs["admin"],
  ejected: boolean,
): ServerState {
  if (admin === "maint") return "maint";
  if (!healthUp || agentDown || ejected) return "down";
  if (admin === "drain") return "drain";
  return "up";
}
