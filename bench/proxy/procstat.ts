// CPU time and RSS of a process tree from /proc: pure parsers plus two thin readers.
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  pid: number;
  ppid: number;
  /** user + system CPU time in clock ticks */
  ticks: number;
  /** resident set size in pages */
  rssPages: number;
}

/** Parses /proc/<pid>/stat (the command name may hold spaces and parentheses: split after the last ')'). */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error(`bench: not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, text.indexOf(" ")));
  const f = text
    .slice(close + 2)
    .trim()
    .split(" ");
  // after the name: state(0) ppid(1) … utime(11) stime(12) … rss(21)
  return { pid, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), rssPages: Number(f[21]) };
}

/** The pid and all its descendants, from a list of every process's stat. */
export function descendants(root: number, all: readonly ProcStat[]): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcStat[] = [];
  const self = all.find((p) => p.pid === root);
  if (self) out.push(self);
  for (let i = 0; i < out.length; i++) out.push(...(byParent.get(out[i]!.pid) ?? []));
  return out;
}

const PAGE = 4096;
/** CLK_TCK on Linux is 100 on every architecture Node supports. */
export const TICKS_PER_SECOND = 100;

function readAll(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.push(parseStat(readFileSync(`/proc/${name}/stat`, "utf8")));
    } catch {
      // the process exited between readdir and read
    }
  }
  return out;
}

/** CPU seconds and RSS bytes of `pid` and its descendants (nginx master + worker, for example). */
export function sampleTree(pid: number): { cpuSeconds: number; rssBytes: number; pids: number[] } {
  const tree = descendants(pid, readAll());
  return {
    cpuSeconds: tree.reduce((a, p) => a + p.ticks, 0) / TICKS_PER_SECOND,
    rssBytes: tree.reduce((a, p) => a + p.rssPages, 0) * PAGE,
    pids: tree.map((p) => p.pid),
  };
}
