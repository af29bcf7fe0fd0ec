export { parseAddress } from "./address.js";
export { Announcer, type AnnouncerEvents, announce } from "./announce.js";
export {
  type AnnounceForm,
  type AnnounceOptions,
  type AnnounceResult,
  type AnnouncerOptions,
  type FrameKind,
  MAX_ADDRESSES,
  MAX_COUNT,
  type OpenLink,
  type PlannedFrame,
  planBurst,
  type SentFrame,
} from "./burst.js";
export { ArpConfigError, ArpError, type ArpErrorCode } from "./errors.js";
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
  type GratuitousArpOptions,
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
export {
  type GetInterfaceOptions,
  getInterface,
  type InterfaceAddress,
  type InterfaceInfo,
} from "./interfaces.js";
export { BROADCAST_MAC, formatMac, type MacLike, parseMac } from "./mac.js";
export { type FrameSender, type LinkRef, PacketSocket } from "./socket.js";
export {
  attachSocketFilter,
  type BpfInstruction,
  encodeBpf,
  SO_COOKIE,
  SOL_SOCKET,
  ttlFilter,
} from "./socket-filter.js";
