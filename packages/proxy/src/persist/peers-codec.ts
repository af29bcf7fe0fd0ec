/**
 * The stick-table peers protocol between two lbkit nodes (pure codec). Not HAProxy's binary peers protocol: a
 * small line protocol over TCP, one JSON object per line (UTF-8, LF-terminated, at most 64 KiB a line).
 *
 * Each node dials its peer and only *sends* on that connection; it only *receives* on connections it accepted.
 * The sender's first line is a hello, then one line per live entry of every shared table (a full resync), then
 * one line per entry it stores from then on:
 *
 *     {"hello":"lbkit-peers/1","node":"lb1"}
 *     {"b":"web","k":"192.0.2.7","s":"web-2","age":1200}
 *
 * `b` is the backend id, `k` the stick key, `s` the server id, `age` the ms since the entry was last touched on
 * the sender (ages, not timestamps, so the two clocks need not agree). The receiver stores the entry unless its
 * own is newer or the entry is already expired; it never forwards what it received. A malformed line, a wrong
 * hello or an over-long line closes the connection.
 */

export const PEERS_HELLO = "lbkit-peers/1";
export const PEERS_MAX_LINE = 65_536;

export interface PeerEntry {
  backend: string;
  key: string;
  server: string;
  age: number;
}

export type PeerLine = { kind: "hello"; node: string } | ({ kind: "entry" } & PeerEntry);

export function encodeHello(node: string): string {
  return `${JSON.stringify({ hello: PEERS_HELLO, node })}\n`;
}

export function encodeEntry(e: PeerEntry): string {
  return `${JSON.stringify({ b: e.backend, k: e.key, s: e.server, age: Math.max(0, Math.round(e.age)) })}\n`;
}

/** One line (without its LF) → a message, or undefined when malformed. */
export function decodeLine(line: string): PeerLine | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if ("hello" in o)
    return o.hello === PEERS_HELLO && typeof o.node === "string"
      ? { kind: "hello", node: o.node }
      : undefined;
  const { b, k, s, age } = o;
  if (typeof b !== "string" || typeof k !== "string" || typeof s !== "string") return undefined;
  if (typeof age !== "number" || !Number.isFinite(age) || age < 0) return undefined;
  return { kind: "entry", backend: b, key: k, server: s, age };
}

/** Splits a byte stream into lines; `push` returns complete lines, or undefined once a line is too long. */
export class LineSplitter {
  private rest = "";
  push(chunk: string): string[] | undefined {
    const text = this.rest + chunk;
    const lines = text.split("\n");
    this.rest = lines.pop() as string;
    if (this.rest.length > PEERS_MAX_LINE) return undefined;
    return lines;
  }
}
