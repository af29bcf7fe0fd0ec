/**
 * A clock read once per I/O callback. A small request reads the time a dozen times (its log timers, deadlines,
 * the inactivity stamps of both connections), and each read is a call into the kernel's clock (~35 ns, about 3 %
 * of the proxy's CPU per request). Inside a callback the lean connections bracket (`enter`/`exit`, see
 * handle-conn.ts) the first read is kept and the others reuse it: a callback lasts microseconds, so the times
 * it records are equal rather than a few microseconds apart. Outside one every read goes to the clock.
 */
import type { Clock } from "@lbkit/core";

export class TurnClock implements Clock {
  private depth = 0;
  private cached = -1;

  constructor(private readonly base: Clock) {}

  now(): number {
    if (this.depth === 0) return this.base.now();
    if (this.cached < 0) this.cached = this.base.now();
    return this.cached;
  }

  /** A callback starts: the next read goes to the clock and is kept until `exit`. */
  enter(): void {
    if (this.depth++ === 0) this.cached = -1;
  }

  exit(): void {
    this.depth--;
  }
}
