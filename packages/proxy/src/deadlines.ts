/**
 * Many absolute deadlines behind one timer: the L7 shell's `timeout http-request` and `timeout
 * http-keep-alive`, which every request would otherwise arm and disarm on its client socket (Node allocates a
 * timer and a bound function per `setTimeout`). A binary heap keyed by deadline, one timer armed for the
 * earliest; setting, moving and clearing a deadline allocate nothing. The timer is cancelled when no deadline
 * is left, so it never holds the process open.
 */
import { type Clock, type HeapNode, IndexedHeap, type TimerHandle, type Timers } from "@lbkit/core";

/** What a deadline belongs to: the heap keeps `heapPos`, `deadline` is the clock time it expires at. */
export interface DeadlineOwner extends HeapNode {
  deadline: number;
  /** The deadline passed (it is already cleared). */
  deadlinePassed(): void;
}

export class Deadlines {
  private readonly heap = new IndexedHeap<DeadlineOwner>((a, b) => a.deadline < b.deadline);
  private timer: TimerHandle | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
  ) {}

  /** Sets (or moves) `o`'s deadline to clock time `at`. */
  set(o: DeadlineOwner, at: number): void {
    o.deadline = at;
    if (o.heapPos >= 0) this.heap.update(o);
    else this.heap.push(o);
    if (at < this.armedFor) this.arm(at);
  }

  clear(o: DeadlineOwner): void {
    if (o.heapPos < 0) return;
    this.heap.remove(o);
    if (this.heap.size === 0 && this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Number.POSITIVE_INFINITY;
    }
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = this.timers.setTimeout(this.fire, Math.max(0, at - this.clock.now()));
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (let o = this.heap.peek(); o !== undefined && o.deadline <= now; o = this.heap.peek()) {
      this.heap.remove(o);
      o.deadlinePassed();
    }
    const next = this.heap.peek();
    if (next !== undefined && next.deadline < this.armedFor) this.arm(next.deadline);
  };
}
