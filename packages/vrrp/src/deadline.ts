/**
 * The instance's one deadline (the machine's `setTimer`), kept tight. Node timers have 1 ms granularity and fire
 * up to ~1 ms late: on the system clock the timer wakes up `margin` ms early (the machine re-arms for the same
 * deadline) and the last stretch runs on setImmediate, yielding to I/O each turn. On an injected clock (tests)
 * it is one plain timer.
 */
import { systemTime, type Time } from "@lbkit/core";

/** a cell nobody notifies: Atomics.wait on it is a sub-millisecond sleep */
const napCell = new Int32Array(new SharedArrayBuffer(4));
const NAP_MS = 0.25;
const NAP_GUARD_MS = 0.15;

export class Deadline {
  private timer: unknown;
  private immediate: NodeJS.Immediate | undefined;
  private readonly precise: boolean;

  constructor(
    private readonly time: Time,
    private readonly fire: () => void,
  ) {
    this.precise = time === systemTime || time.now === systemTime.now;
  }

  /** Fires at `at` (the clock's ms); `margin` is how early the coarse timer wakes on the system clock. */
  arm(at: number, margin: number): void {
    this.cancel();
    const run = () => {
      this.timer = undefined;
      this.immediate = undefined;
      this.fire();
    };
    const delay = at - this.time.now();
    if (!this.precise) {
      this.timer = this.time.setTimeout(run, Math.max(0, delay));
      return;
    }
    if (delay > margin) {
      this.timer = this.time.setTimeout(run, delay - margin);
      return;
    }
    this.immediate = setImmediate(() => {
      // A busy last stretch runs for a whole scheduler slice, and on a loaded host the kernel preempts it right
      // before the deadline (0.3–1.3 ms late, measured): sleep most of each turn instead, in slices of at most
      // NAP_MS so I/O (a late advert) is still handled, and spin only the last NAP_GUARD_MS.
      const left = at - this.time.now() - NAP_GUARD_MS;
      if (left > 0) Atomics.wait(napCell, 0, 0, Math.min(left, NAP_MS));
      run();
    });
  }

  cancel(): void {
    if (this.timer !== undefined) this.time.clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
