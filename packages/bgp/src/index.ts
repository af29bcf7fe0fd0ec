/**
 * @lbkit/bgp — N active balancers behind ECMP: announce VIP routes through an existing BGP daemon (GoBGP, over its
 * gRPC API), driven by health with hysteresis, with a planned drain, and a BFD speaker (RFC 5880/5881) so the
 * router drops a crashed balancer's routes within the BFD detection time.
 */

export { BFD_PORT, Bfd, type BfdChange, type BfdDrops, type BfdOptions } from "./bfd.js";
export {
  BFD_DIAGS,
  BFD_STATES,
  type BfdDiag,
  type BfdPacket,
  type BfdState,
  decodeBfd,
  encodeBfd,
} from "./bfd-codec.js";
export { type BfdAction, BfdMachine, type BfdTimers } from "./bfd-machine.js";
export { BgpConfigError, BgpError, type BgpErrorCode } from "./errors.js";
export { GTSM_TTL, gtsmFilter } from "./gtsm.js";
export { Hysteresis, type RouteState } from "./hysteresis.js";
export type { NeighborOptions, SessionState } from "./neighbor.js";
export { formatCommunity, parseCommunity, type VipRoute } from "./route.js";
export {
  type BgpChange,
  BgpSpeaker,
  type BgpSpeakerOptions,
  type DrainOptions,
  type Tracker,
} from "./speaker.js";
