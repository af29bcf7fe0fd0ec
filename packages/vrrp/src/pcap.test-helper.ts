/** A tiny classic-pcap reader for tests: Ethernet frames → IPv4 VRRP packets. Not exported from the package. */
import { readFileSync } from "node:fs";

export interface PcapRecord {
  /** seconds since the epoch, with microseconds */
  time: number;
  frame: Uint8Array;
}

export function readPcap(path: string): PcapRecord[] {
  const b = readFileSync(path);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d)
    throw new Error(`pcap: ${path} is not a classic pcap file`);
  const nano = (le ? magic : b.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (u32(20) !== 1) throw new Error(`pcap: ${path} link type ${u32(20)} is not Ethernet`);
  const out: PcapRecord[] = [];
  for (let o = 24; o + 16 <= b.length; ) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const incl = u32(o + 8);
    out.push({
      time: sec + frac / (nano ? 1e9 : 1e6),
      frame: new Uint8Array(b.subarray(o + 16, o + 16 + incl)),
    });
    o += 16 + incl;
  }
  return out;
}

/** The IPv4 packet inside an Ethernet II frame of type 0x0800, else undefined. */
export function ipv4OfFrame(frame: Uint8Array): Uint8Array | undefined {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) return undefined;
  return frame.subarray(14);
}
