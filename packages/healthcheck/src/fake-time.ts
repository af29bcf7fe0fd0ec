/**
 * Fake Clock + Timers for deterministic tests of the shell (not exported from the package).
 * `advance(ms)` fires due timers in time order, letting promises settle between them.
 */
import type { Clock, Timers } from "./clock.js";

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeTime implements Clock, Timers {
  private t = 0;
  private seq = 0;
  private readonly pending = new Map<number, FakeTimer>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get timers(): number {
    return this.pending.size;
  }

  /** Move time forward by `ms`, firing timers in order and flushing microtasks after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      let next: FakeTimer | undefined;
      for (const timer of this.pending.values()) {
        if (
          timer.at <= end &&
          (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))
        ) {
          next = timer;
        }
      }
      if (!next) break;
      this.pending.delete(next.seq);
      this.t = Math.max(this.t, next.at);
      next.fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
