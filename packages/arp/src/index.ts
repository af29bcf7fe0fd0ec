export { type IpAddress, parseAddress } from "./address.js";
export {
  type AnnounceDeps,
  type AnnounceForm,
  type AnnounceOptions,
  type AnnounceResult,
  Announcer,
  type AnnouncerOptions,
  announce,
  type FrameKind,
  MAX_ADDRESSES,
  MAX_COUNT,
  normalizeAnnounceOptions,
  type PlannedFrame,
  planBurst,
  type SentFrame,
} from "./announce.js";
export { type Clock, systemClock } from "./clock.js";
export { ArpError, type ArpErrorCode } from "./errors.js";
export {
  ALL_NODES,
  ALL_NODES_MAC,
  ARP_REPLY,
  ARP_REQUEST,
  type ArpPacket,
  buildGratuitousArp,
  buildUnsolicitedNa,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  type GarpForm,
  type GarpOptions,
  ICMPV6_NA,
  ICMPV6_NS,
  icmpv6Checksum,
  type NaOptions,
  type NdpPacket,
  type ParsedFrame,
  parseArp,
  parseFrame,
  parseNdp,
} from "./frames.js";
export { getInterface, type InterfaceInfo } from "./interfaces.js";
export { type LinkAnnounceOptions, LinkAnnouncer } from "./link-announcer.js";
export { BROADCAST_MAC, formatMac, type MacLike, parseMac } from "./mac.js";
export { type FrameSender, type LinkRef, loadNative, type NativePacket, PacketSocket } from "./socket.js";
export {
  attachSocketFilter,
  type BpfInstruction,
  encodeBpf,
  SO_COOKIE,
  SOL_SOCKET,
} from "./socket-filter.js";
