export { compareAddresses } from "./address.js";
export {
  type AddressPair,
  type Advert,
  AuthType,
  type DiscardReason,
  decodeAdvert,
  encodeAdvert,
  passwordAuthData,
  type ReceivedPacket,
  type ValidateOptions,
  type ValidateResult,
  VRRP_GROUP_V4,
  VRRP_GROUP_V6,
  VRRP_PROTOCOL,
  VRRP_TTL,
  type VrrpVersion,
  validateAdvert,
} from "./codec.js";
export {
  parseVirtualAddress,
  type VirtualAddress,
  type VrrpConfig,
  type VrrpConfigInput,
  validateConfig,
} from "./config.js";
export { VrrpConfigError, VrrpError, type VrrpErrorCode } from "./errors.js";
export type { VrrpGarpOptions } from "./garp.js";
export { VrrpInstance } from "./instance.js";
export type {
  HandoverOptions,
  VrrpChange,
  VrrpEvents,
  VrrpInstanceOptions,
  VrrpStats,
} from "./instance-types.js";
export { decodeIpv4Packet, encodeIpv4Packet, type Ipv4Options, type Ipv4Packet } from "./ipv4.js";
export {
  effectivePriority,
  initialState as initialMachineState,
  type MachineAction,
  type MachineConfig,
  type MachineEvent,
  type MachineState,
  masterDownInterval,
  type Step as MachineStep,
  skewTime,
  step as machineStep,
  type TransitionReason,
  type VrrpState,
} from "./machine.js";
export { SyncGroup, type SyncGroupOptions } from "./sync-group.js";
export { type InterfaceChange, InterfaceTracker, type InterfaceTrackerOptions } from "./track-interface.js";
export type { Tracker, Witness } from "./tracker.js";
export { MemoryNetwork, MemoryTransport } from "./transports/memory.js";
export { RawTransport, type RawTransportOptions } from "./transports/raw.js";
export type { Transport } from "./transports/transport.js";
export { UdpTransport, type UdpTransportOptions } from "./transports/udp.js";
export {
  MemoryVipMover,
  NetlinkVipMover,
  type NetlinkVipMoverOptions,
  type VipContext,
  type VipMover,
} from "./vip.js";
export { virtualMac } from "./vmac.js";
