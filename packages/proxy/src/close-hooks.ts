/**
 * The functions a connection runs once when it closes, in the order they were added.
 *
 * A chain of instances rather than an array literal. The array would live as long as its connection, and V8
 * pretenures a literal's allocation site once many of its objects outlive a scavenge (thousands of idle
 * connections): from then on each new array starts in the old generation, and its young closures, with the
 * connection they close over, survive every scavenge until the next full GC. Constructors have no allocation site.
 */
class Hook {
  next: Hook | undefined = undefined;
  constructor(readonly fn: () => void) {}
}

export class CloseHooks {
  private readonly first: Hook;
  private last: Hook;
  constructor(fn: () => void) {
    this.first = new Hook(fn);
    this.last = this.first;
  }

  add(fn: () => void): void {
    const h = new Hook(fn);
    this.last.next = h;
    this.last = h;
  }

  /** Runs every hook in order; one that throws stops the rest and the exception reaches the caller. */
  run(): void {
    for (let h: Hook | undefined = this.first; h !== undefined; h = h.next) h.fn();
  }
}
