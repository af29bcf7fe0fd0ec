/**
 * Fake `Clock` + `Timers` for deterministic tests of shells. Time moves only when the test says so:
 * `advance(ms)` fires due timers in time order (ties in arming order) and lets promises settle after each, so
 * async code reacting to a timer runs before the next one fires. `advanceSync(ms)` does the same without the
 * microtask flushes, for purely synchronous code.
 */
import { IndexedHeap } from "../heap.js";
import type { Clock, TimerHandle, Timers } from "../time.js";

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  heapPos: number;
}

export class FakeTime implements Clock, Timers {
  private t: number;
  private seq = 0;
  private readonly byId = new Map<number, FakeTimer>();
  private readonly queue = new IndexedHeap<FakeTimer>(
    (a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq),
  );

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const seq = ++this.seq;
    const timer: FakeTimer = { at: this.t + Math.max(0, Number.isFinite(ms) ? ms : 0), seq, fn, heapPos: -1 };
    this.byId.set(seq, timer);
    this.queue.push(timer);
    return seq;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.byId.get(handle as number);
    if (!timer) return;
    this.byId.delete(timer.seq);
    this.queue.remove(timer);
  }

  /** Timers armed and not yet fired or cleared. */
  get pending(): number {
    return this.byId.size;
  }

  /** When the next timer fires, or undefined when none is armed. */
  get nextAt(): number | undefined {
    return this.queue.peek()?.at;
  }

  /** Moves time forward by `ms`, firing due timers in order and flushing microtasks before, between and after. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      const next = this.takeDue(end);
      if (!next) break;
      next.fn();
      await flush();
    }
    this.t = Math.max(this.t, end);
    await flush();
  }

  /** `advance` without microtask flushes: for synchronous code only. */
  advanceSync(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.takeDue(end);
      if (!next) break;
      next.fn();
    }
    this.t = Math.max(this.t, end);
  }

  /** Advances to the next armed timer and fires it (with flushes); false when none is armed. */
  async next(): Promise<boolean> {
    const at = this.nextAt;
    if (at === undefined) return false;
    await this.advance(Math.max(0, at - this.t));
    return true;
  }

  private takeDue(end: number): FakeTimer | undefined {
    const next = this.queue.peek();
    if (!next || next.at > end) return undefined;
    this.queue.remove(next);
    this.byId.delete(next.seq);
    this.t = Math.max(this.t, next.at);
    return next;
  }
}

/** Lets pending promise callbacks (several hops deep) run. */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
