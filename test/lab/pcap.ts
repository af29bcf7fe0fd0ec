// A tiny classic-pcap reader (libpcap format, not pcapng) for comparing captured frames byte for byte.
import { readFileSync } from "node:fs";

export interface PcapRecord {
  /** Capture time in microseconds since the epoch (nanosecond files are scaled down). */
  timeUs: number;
  /** Original length on the wire. */
  length: number;
  /** The captured bytes (may be shorter than length when a snaplen cut them). */
  data: Uint8Array;
}

export interface Pcap {
  /** Link-layer type: 1 = Ethernet. */
  linkType: number;
  records: PcapRecord[];
}

/** Parses a classic pcap (either byte order, micro- or nanosecond timestamps). */
export function parsePcap(bytes: Uint8Array): Pcap {
  if (bytes.length < 24) throw new Error(`pcap: file too short (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicBE = view.getUint32(0, false);
  let little: boolean;
  let nano: boolean;
  if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) {
    little = false;
    nano = magicBE === 0xa1b23c4d;
  } else if (magicBE === 0xd4c3b2a1 || magicBE === 0x4d3cb2a1) {
    little = true;
    nano = magicBE === 0x4d3cb2a1;
  } else {
    throw new Error(`pcap: bad magic 0x${magicBE.toString(16)} (pcapng is not supported; save as pcap)`);
  }
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = 24;
  while (off + 16 <= bytes.length) {
    const sec = view.getUint32(off, little);
    const frac = view.getUint32(off + 4, little);
    const incl = view.getUint32(off + 8, little);
    const orig = view.getUint32(off + 12, little);
    off += 16;
    if (off + incl > bytes.length)
      throw new Error(`pcap: record at ${off - 16} runs past the end of the file`);
    records.push({
      timeUs: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac),
      length: orig,
      data: bytes.slice(off, off + incl),
    });
    off += incl;
  }
  return { linkType, records };
}

export function readPcap(path: string): Pcap {
  return parsePcap(readFileSync(path));
}
