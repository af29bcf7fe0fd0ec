/** The binary heap every package uses (schedulers, leastconn, fake timers). */
/** A node stored in an {@link IndexedHeap}: the heap keeps `heapPos` up to date (-1 when not in a heap). */
export interface HeapNode {
  heapPos: number;
}

/**
 * Binary heap with O(log n) insert, remove and re-key of any node (the node knows its position).
 * `before(a, b)` is true when `a` must come out before `b`.
 */
export class IndexedHeap<T extends HeapNode> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(node: T): void {
    node.heapPos = this.items.length;
    this.items.push(node);
    this.up(node.heapPos);
  }

  remove(node: T): void {
    const pos = node.heapPos;
    if (pos < 0 || this.items[pos] !== node) return;
    const last = this.items.pop()!;
    node.heapPos = -1;
    if (pos === this.items.length) return;
    this.items[pos] = last;
    last.heapPos = pos;
    this.update(last);
  }

  /** Restore the heap order after `node`'s key changed, in either direction. */
  update(node: T): void {
    const pos = this.up(node.heapPos);
    this.down(pos);
  }

  /** Nodes in heap order without disturbing the heap: O(k log k) for the first k. */
  *ordered(): Generator<T> {
    if (this.items.length === 0) return;
    const frontier = new IndexedHeap<{ heapPos: number; i: number }>((a, b) =>
      this.before(this.items[a.i]!, this.items[b.i]!),
    );
    frontier.push({ heapPos: -1, i: 0 });
    while (frontier.size > 0) {
      const top = frontier.peek()!;
      frontier.remove(top);
      yield this.items[top.i]!;
      const l = 2 * top.i + 1;
      if (l < this.items.length) frontier.push({ heapPos: -1, i: l });
      if (l + 1 < this.items.length) frontier.push({ heapPos: -1, i: l + 1 });
    }
  }

  private up(pos: number): number {
    const items = this.items;
    const node = items[pos]!;
    while (pos > 0) {
      const parentPos = (pos - 1) >> 1;
      const parent = items[parentPos]!;
      if (!this.before(node, parent)) break;
      items[pos] = parent;
      parent.heapPos = pos;
      pos = parentPos;
    }
    items[pos] = node;
    node.heapPos = pos;
    return pos;
  }

  private down(pos: number): void {
    const items = this.items;
    const n = items.length;
    const node = items[pos]!;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= n) break;
      const r = l + 1;
      let child = l;
      if (r < n && this.before(items[r]!, items[l]!)) child = r;
      const c = items[child]!;
      if (!this.before(c, node)) break;
      items[pos] = c;
      c.heapPos = pos;
      pos = child;
    }
    items[pos] = node;
    node.heapPos = pos;
  }
}
