// Helpers for this package's tests only (not in src/, not shipped).
import type { BfdPacket } from "../src/bfd-codec.js";

/** A peer's control packet: version 1, no flags, DetectMult 3, timers of `intervalUs` µs; `over` wins. */
export function controlPacket(over: Partial<BfdPacket> = {}, intervalUs = 100_000): BfdPacket {
  return {
    version: 1,
    diag: "none",
    state: "Down",
    poll: false,
    final: false,
    controlPlaneIndependent: false,
    authPresent: false,
    demand: false,
    multipoint: false,
    detectMult: 3,
    myDiscriminator: 7,
    yourDiscriminator: 0,
    desiredMinTxInterval: intervalUs,
    requiredMinRxInterval: intervalUs,
    requiredMinEchoRxInterval: 0,
    ...over,
  };
}
