/**
 * Pure FIFO wait queue for requests waiting for a server slot: a backend's queue (every server at its
 * `maxconn`) or one server's queue (the server a request is bound to is at its `maxconn`). `maxqueue` bounds it
 * (a full queue refuses → 503), `timeout queue` expires the oldest first. Time is injected. Entries are removed
 * lazily (cancel marks them), so push/shift/cancel are O(1) amortised.
 */

export interface Waiter<T> {
  readonly item: T;
  readonly deadline: number;
  /** Arrival order across the queues of one backend (the oldest of two heads is served first). */
  readonly order: number;
  /** Entries waiting in this queue when this one joined it (HAProxy's queue position in the log). */
  readonly pos: number;
  /** The queue holding it. */
  readonly queue: WaitQueue<T>;
  cancelled: boolean;
}

/** An instance, not a literal: a waiter may wait seconds and holds a young connection (see close-hooks.ts). */
class Entry<T> implements Waiter<T> {
  cancelled = false;
  constructor(
    readonly item: T,
    readonly deadline: number,
    readonly order: number,
    readonly pos: number,
    readonly queue: WaitQueue<T>,
  ) {}
}

export class WaitQueue<T> {
  private items: (Waiter<T> | undefined)[] = [];
  private head = 0;
  private live = 0;
  /** Most entries waiting at once (HAProxy's qmax). */
  peak = 0;

  constructor(
    /** Most waiting entries; 0 = unbounded. */
    public maxQueue: number,
    /** ms an entry may wait. */
    public timeout: number,
  ) {}

  get length(): number {
    return this.live;
  }

  get full(): boolean {
    return this.maxQueue > 0 && this.live >= this.maxQueue;
  }

  /** Undefined when the queue is full (the caller answers 503). `order` defaults to `now`. */
  push(item: T, now: number, order = now): Waiter<T> | undefined {
    if (this.full) return undefined;
    const w = new Entry(item, now + this.timeout, order, this.live, this);
    this.items.push(w);
    if (++this.live > this.peak) this.peak = this.live;
    return w;
  }

  /** The oldest live entry, left in place. */
  peek(): Waiter<T> | undefined {
    this.skipCancelled();
    return this.items[this.head];
  }

  cancel(w: Waiter<T>): void {
    if (w.cancelled) return;
    w.cancelled = true;
    this.live--;
    this.compact();
  }

  /** The oldest live entry, removed. */
  shift(): Waiter<T> | undefined {
    this.skipCancelled();
    if (this.head >= this.items.length) return undefined;
    const w = this.items[this.head] as Waiter<T>;
    this.items[this.head++] = undefined;
    this.live--;
    this.compact();
    return w;
  }

  /** Removes and returns the entries whose deadline is at or before `now`, oldest first. */
  expire(now: number): Waiter<T>[] {
    const out: Waiter<T>[] = [];
    for (;;) {
      this.skipCancelled();
      const w = this.items[this.head];
      if (!w || w.deadline > now) break;
      this.items[this.head++] = undefined;
      this.live--;
      out.push(w);
    }
    this.compact();
    return out;
  }

  /** The earliest deadline, for the shell's single timer; undefined when empty. */
  nextDeadline(): number | undefined {
    this.skipCancelled();
    return this.items[this.head]?.deadline;
  }

  private skipCancelled(): void {
    while (this.head < this.items.length && (this.items[this.head] as Waiter<T>).cancelled)
      this.items[this.head++] = undefined;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.live === 0) {
      this.items.length = 0;
      this.head = 0;
    }
  }
}
