/**
 * A priority queue for due times that mostly arrive in order. Checks on one interval come back due in the
 * order they started, so most pushes are no earlier than the last one: those go to the end of a sorted run
 * (O(1) push, O(1) take from the front, O(1) remove by leaving a hole); the rest go to an IndexedHeap. The
 * front is the earlier of the run's and the heap's. At 10,000 targets this spares the scheduler a heap's
 * ~2 log2(n) comparisons per check.
 */
import { type HeapNode, IndexedHeap } from "@lbkit/core";

/** Where a node sits: `heapPos` >= 0 in the heap, -1 nowhere, <= -2 in the run (at absolute index -2 - heapPos). */
export class DueQueue<T extends HeapNode> {
  private readonly heap: IndexedHeap<T>;
  private run: (T | undefined)[] = [];
  /** The run's first slot that may hold a node. */
  private head = 0;
  /** The absolute index of run[0] (the run is compacted from the front). */
  private base = 0;
  private live = 0;
  /** The run's last node: a push no earlier than it keeps the run sorted. */
  private last: T | undefined;

  constructor(private readonly before: (a: T, b: T) => boolean) {
    this.heap = new IndexedHeap(before);
  }

  get size(): number {
    return this.heap.size + this.live;
  }

  peek(): T | undefined {
    const a = this.front();
    const b = this.heap.peek();
    if (a === undefined) return b;
    if (b === undefined) return a;
    return this.before(b, a) ? b : a;
  }

  push(node: T): void {
    if (this.last === undefined || !this.before(node, this.last)) {
      node.heapPos = -2 - (this.base + this.run.length);
      this.run.push(node);
      this.last = node;
      this.live++;
      return;
    }
    this.heap.push(node);
  }

  remove(node: T): void {
    if (node.heapPos >= 0) {
      this.heap.remove(node);
      return;
    }
    if (node.heapPos === -1) return;
    const i = -2 - node.heapPos - this.base;
    const run = this.run;
    if (run[i] === node) {
      run[i] = undefined;
      this.live--;
    }
    node.heapPos = -1;
    if (node === this.last) {
      // the run's new end is its last node still in it (whose key cannot have changed while in it)
      while (run.length > this.head && run[run.length - 1] === undefined) run.pop();
      this.last = run.length > this.head ? run[run.length - 1] : undefined;
    }
  }

  /** Restore the order after `node`'s key changed. */
  update(node: T): void {
    this.remove(node);
    this.push(node);
  }

  private front(): T | undefined {
    const run = this.run;
    while (this.head < run.length && run[this.head] === undefined) this.head++;
    if (this.head === run.length) {
      if (run.length > 0) {
        this.base += run.length;
        this.run = [];
        this.head = 0;
        this.last = undefined;
      }
      return undefined;
    }
    if (this.head > 1024 && this.head * 2 > run.length) {
      this.base += this.head;
      this.run = run.slice(this.head);
      this.head = 0;
    }
    return this.run[this.head];
  }
}
