/** What balancer pools and health checks agree on about a server (HAProxy's vocabulary). */

/**
 * A server's administrative/operational state: `up` takes traffic; `down` failed its checks; `drain` finishes what
 * it has and takes no new (sticky) traffic; `maint` is out of rotation (HAProxy `disable server` / agent `maint`).
 */
export type ServerState = "up" | "down" | "drain" | "maint";

export const SERVER_STATES: readonly ServerState[] = ["up", "down", "drain", "maint"];

/** HAProxy's largest server weight; 0 means no new traffic. */
export const MAX_WEIGHT = 256;
