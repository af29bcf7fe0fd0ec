export { canonicalAddress, compareAddresses, type Family } from "./address.js";
export { internetChecksum } from "./checksum.js";
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
export { VrrpConfigError, VrrpError } from "./errors.js";
export {
  type Clock,
  createInstance,
  type GarpOptions,
  type HandoverOptions,
  type Tracker,
  type TransitionInfo,
  type VrrpEvents,
  VrrpInstance,
  type VrrpInstanceOptions,
  type VrrpStats,
  type Witness,
} from "./instance.js";
export { decodeIpv4Packet, encodeIpv4Packet, type Ipv4Options, type Ipv4Packet } from "./ipv4.js";
export {
  effectivePriority,
  initialState,
  type MachineAction,
  type MachineConfig,
  type MachineEvent,
  type MachineState,
  masterDownInterval,
  type Step,
  skewTime,
  step,
  type TransitionReason,
  type VrrpState,
} from "./machine.js";
export { createSyncGroup, type SyncGroup } from "./sync-group.js";
export { type InterfaceTracker, type TrackInterfaceOptions, trackInterface } from "./track-interface.js";
export { createRawTransport, type RawTransportOptions } from "./transports/raw.js";
export type { Transport } from "./transports/transport.js";
export { createUdpTransport, type UdpTransportOptions } from "./transports/udp.js";
export {
  type Announcer,
  createArpAnnouncer,
  createMemoryVipMover,
  createNetlinkVipMover,
  createVmac,
  type NetlinkVipMoverOptions,
  type VipContext,
  type VipMover,
  type VmacOptions,
  virtualMac,
} from "./vip.js";
