/**
 * A stick table (HAProxy `stick-table type … size … expire …` with `stick on <key>`), pure: key → server id,
 * bounded in size (the least recently used entry goes first) and in time (an entry not touched for `expire` ms
 * is gone). Time is injected (`now` in ms on every call). A Map keeps insertion order, so a touch re-inserts the
 * key at the end and the oldest entry is always the first one.
 */

export interface StickEntry {
  key: string;
  server: string;
  /** Last touch, ms. */
  at: number;
}

export class StickTable {
  private readonly map = new Map<string, StickEntry>();

  constructor(
    /** Entries kept at most. */
    readonly size: number,
    /** Ms an untouched entry lives. */
    readonly expire: number,
  ) {}

  get length(): number {
    return this.map.size;
  }

  /** The server stuck to `key`, touching the entry; undefined when absent or expired. */
  get(key: string, now: number): string | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    if (now - e.at >= this.expire) return undefined;
    e.at = now;
    this.map.set(key, e);
    return e.server;
  }

  /** Sticks `key` to `server` at `now` (or at `at`, for an entry learnt from a peer, if newer than ours). */
  set(key: string, server: string, now: number, at = now): StickEntry | undefined {
    const old = this.map.get(key);
    if (old && old.at > at) return undefined; // ours is newer
    if (now - at >= this.expire) return undefined;
    this.map.delete(key);
    const e = { key, server, at };
    this.map.set(key, e);
    this.prune(now);
    return e;
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  /** Entries still live at `now`, oldest first. */
  *entries(now: number): Generator<StickEntry> {
    for (const e of this.map.values()) if (now - e.at < this.expire) yield e;
  }

  /** Drops expired entries from the old end, and the oldest beyond `size`. */
  prune(now: number): void {
    for (const [k, e] of this.map) {
      if (this.map.size > this.size || now - e.at >= this.expire) this.map.delete(k);
      else break;
    }
  }
}
