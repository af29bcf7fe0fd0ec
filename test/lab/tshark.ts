// tshark helpers: full decodes with checksum validation on, and a scan for Wireshark's problem markers.
import { execFile } from "node:child_process";

/** Checksum validation preferences (off by default in Wireshark) turned on for the protocols lbkit sends. */
export const CHECKSUM_PREFS = [
  "ip.check_checksum:TRUE",
  "icmpv6.checksum_bad:TRUE",
  "vrrp.check_checksum:TRUE",
  "udp.check_checksum:TRUE",
  "tcp.check_checksum:TRUE",
];

function tshark(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("tshark", args, { maxBuffer: 64 * 1024 * 1024, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tshark ${args.join(" ")} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Prefs this tshark knows (unknown -o names make tshark exit with an error). */
let known: Set<string> | undefined;
async function knownPrefs(): Promise<Set<string>> {
  if (!known) {
    const out = await tshark(["-G", "defaultprefs"]);
    known = new Set([...out.matchAll(/^#?([a-z0-9_.]+):/gm)].map((m) => m[1]!));
  }
  return known;
}

/** `tshark -r file -V` with checksum validation on; extra display filter optional. */
export async function decodeVerbose(file: string, filter?: string): Promise<string> {
  const prefs = await knownPrefs();
  const args = ["-r", file, "-V"];
  for (const p of CHECKSUM_PREFS) if (prefs.has(p.split(":")[0]!)) args.push("-o", p);
  if (filter) args.push("-Y", filter);
  return tshark(args);
}

/** One line per frame: `tshark -r file -T fields -e frame.protocols` (e.g. "eth:ethertype:arp"). */
export async function frameProtocols(file: string): Promise<string[]> {
  const out = await tshark(["-r", file, "-T", "fields", "-e", "frame.protocols"]);
  return out.split("\n").filter((l) => l.length > 0);
}

/** Lines of a verbose decode that carry Wireshark's warnings: malformed, bad/incorrect checksum, expert errors. */
export function decodeProblems(verbose: string): string[] {
  return verbose
    .split("\n")
    .filter((l) =>
      /\[Malformed|Bad checksum|\[Checksum Status: Bad\]|incorrect|\[Expert Info \(Error/i.test(l),
    );
}
