/**
 * Weighted sampling over slots in O(log n): a Fenwick (binary indexed) tree of weights.
 * Slots are reused after release, so add/remove/reweight never rebuild.
 */
export class WeightedSampler<T> {
  private tree = new Float64Array(16);
  private weights = new Float64Array(16);
  private values: (T | undefined)[] = new Array(16);
  private readonly free: number[] = [];
  private used = 0;
  private readonly slotOf = new Map<T, number>();
  total = 0;

  /**
   * `slotFor`, when given, fixes each value's slot (map-based hashing keys slots by declaration order, so the
   * mapping depends on the member set only); otherwise slots are allocated and reused as values come and go.
   */
  constructor(private readonly slotFor?: (value: T) => number) {}

  get size(): number {
    return this.slotOf.size;
  }

  has(value: T): boolean {
    return this.slotOf.has(value);
  }

  set(value: T, weight: number): void {
    let slot = this.slotOf.get(value);
    if (slot === undefined) {
      slot = this.slotFor ? this.slotFor(value) : (this.free.pop() ?? this.used++);
      while (slot >= this.weights.length) this.grow();
      this.slotOf.set(value, slot);
      this.values[slot] = value;
    }
    this.add(slot, weight - this.weights[slot]!);
  }

  delete(value: T): void {
    const slot = this.slotOf.get(value);
    if (slot === undefined) return;
    this.add(slot, -this.weights[slot]!);
    this.weights[slot] = 0;
    this.values[slot] = undefined;
    this.slotOf.delete(value);
    if (!this.slotFor) this.free.push(slot);
  }

  /** The value whose cumulative weight range holds `r`, for r in [0, total). */
  find(r: number): T | undefined {
    if (this.total <= 0) return undefined;
    const tree = this.tree;
    const n = this.weights.length;
    let pos = 0;
    let step = 1 << (31 - Math.clz32(n));
    for (; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= n && tree[next - 1]! <= r) {
        pos = next;
        r -= tree[next - 1]!;
      }
    }
    // floating-point sums can leave r a hair past the last positive slot: step back to one that has weight
    let slot = Math.min(pos, n - 1);
    while (slot > 0 && this.weights[slot] === 0) slot--;
    while (slot < n - 1 && this.weights[slot] === 0) slot++;
    return this.values[slot];
  }

  /** The value after `value` in slot order that has weight (wrapping), or undefined when `value` is not held. */
  after(value: T): T | undefined {
    const slot = this.slotOf.get(value);
    if (slot === undefined) return undefined;
    let sum = 0;
    for (let i = slot + 1; i > 0; i -= i & -i) sum += this.tree[i - 1]!;
    return this.find(sum >= this.total ? 0 : sum);
  }

  /** A weighted random value, given a uniform random number in [0, 1). */
  sample(random: number): T | undefined {
    return this.find(random * this.total);
  }

  private add(slot: number, delta: number): void {
    if (delta === 0) return;
    this.weights[slot]! += delta;
    this.total += delta;
    const tree = this.tree;
    const n = this.weights.length;
    for (let i = slot + 1; i <= n; i += i & -i) tree[i - 1]! += delta;
  }

  private grow(): void {
    const n = this.weights.length * 2;
    const weights = new Float64Array(n);
    weights.set(this.weights);
    this.weights = weights;
    this.values.length = n;
    const tree = new Float64Array(n);
    for (let i = 1; i <= n; i++) {
      tree[i - 1]! += weights[i - 1]!;
      const parent = i + (i & -i);
      if (parent <= n) tree[parent - 1]! += tree[i - 1]!;
    }
    this.tree = tree;
  }
}
