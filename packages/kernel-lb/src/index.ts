/**
 * @lbkit/kernel-lb — LVS's role for lbkit: a Node control plane (pools, health checks) over a kernel data path
 * (nftables DNAT maps), as keepalived drives IPVS.
 */
export {
  type LbKind,
  type MemberSource,
  type MemberView,
  SCHEDULERS,
  type Scheduler,
  type ServiceConfig,
  serviceConfig,
  type VirtualServiceOptions,
} from "./config.js";
export { KernelDirector, type KernelDirectorOptions } from "./director.js";
export {
  type ChangeSource,
  DirectorBase,
  type DirectorBaseOptions,
  type KernelDirectorEvents,
  type QuorumChange,
  type SyncEvent,
} from "./director-base.js";
export { KernelLbConfigError, KernelLbError } from "./errors.js";
export {
  ackErrno,
  decodeNetlink,
  encodeGetFamily,
  endsAnswer,
  familyIdOf,
  NETLINK_GENERIC,
  type NetlinkMessage,
} from "./genl.js";
export { type GenlChannel, openGenlChannel } from "./genl-socket.js";
export {
  FlowHandoff,
  type FlowHandoffConfig,
  type FlowHandoffEvents,
  type FlowHandoffOptions,
  flowHandoffConfig,
  handoffCommands,
  handoffTableCommands,
} from "./handoff.js";
export {
  encodeIpvs,
  IPVS_CMD,
  IPVS_FWD,
  type IpvsCommand,
  type IpvsDest,
  type IpvsService,
  type IpvsServiceKey,
  ipvsCommands,
} from "./ipvs.js";
export { describeIpvs, IpvsDirector, type IpvsDirectorOptions } from "./ipvs-director.js";
export { type Nft, NftRunner, type NftRunnerOptions, transactionLine } from "./nft.js";
export {
  deviceCommands,
  masqueradeCommands,
  type NftCommand,
  removeCommands,
  serviceCommands,
  tableCommands,
} from "./ruleset.js";
export {
  type NftTextCommand,
  type ServiceUpdate,
  serviceUpdate,
  slotMapName,
} from "./slotmap.js";
export { hashBuckets, normaliseWeights, type SlotMember, weightedSequence } from "./slots.js";
export { computeTable, type ServiceTable, type Target } from "./table.js";
