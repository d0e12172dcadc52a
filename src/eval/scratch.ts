/**
 * A dense score array over the catalogue that remembers which entries it
 * touched, so sparse accumulation and reset cost only what was touched.
 */

/** True when item `a` (score `sa`) ranks before item `b` (score `sb`): higher score, then lower index. */
function ranksBefore(sa: number, a: number, sb: number, b: number): boolean {
  return sa > sb || (sa === sb && a < b);
}

/** Sparse accumulator of positive scores over items [0, numItems). */
export class ScoreScratch {
  /** Score of each item; 0 for untouched items. Callers may rescale touched entries in place. */
  readonly values: Float64Array;
  private readonly touched: Int32Array;
  private touchedCount = 0;

  /** An all-zero scratch over `numItems` items. */
  constructor(numItems: number) {
    this.values = new Float64Array(numItems);
    this.touched = new Int32Array(numItems);
  }

  /** Adds `amount` (must be > 0) to an item's score. */
  add(item: number, amount: number): void {
    if (this.values[item] === 0) this.touched[this.touchedCount++] = item;
    this.values[item] += amount;
  }

  /** Number of items touched since the last reset. */
  get count(): number {
    return this.touchedCount;
  }

  /** The t-th touched item (0 <= t < count), in first-touch order. */
  itemAt(t: number): number {
    return this.touched[t];
  }

  /** The (at most) m touched items with the highest scores, best first, ties by lower index. */
  top(m: number): Int32Array {
    const values = this.values;
    const size = Math.min(m, this.touchedCount);
    // Min-heap on rank: the root is the worst item kept so far.
    const heap = new Int32Array(size);
    const worse = (i: number, j: number) => ranksBefore(values[heap[j]], heap[j], values[heap[i]], heap[i]);
    const swap = (i: number, j: number) => {
      const t = heap[i];
      heap[i] = heap[j];
      heap[j] = t;
    };
    let filled = 0;
    for (let t = 0; t < this.touchedCount; t++) {
      const item = this.touched[t];
      if (filled < size) {
        let i = filled++;
        heap[i] = item;
        while (i > 0 && worse(i, (i - 1) >> 1)) {
          swap(i, (i - 1) >> 1);
          i = (i - 1) >> 1;
        }
      } else if (size > 0 && ranksBefore(values[item], item, values[heap[0]], heap[0])) {
        heap[0] = item;
        for (let i = 0; ; ) {
          const l = 2 * i + 1;
          const r = l + 1;
          let w = i;
          if (l < size && worse(l, w)) w = l;
          if (r < size && worse(r, w)) w = r;
          if (w === i) break;
          swap(i, w);
          i = w;
        }
      }
    }
    return heap.sort((a, b) => values[b] - values[a] || a - b);
  }

  /** Zeroes every touched entry. */
  reset(): void {
    for (let t = 0; t < this.touchedCount; t++) this.values[this.touched[t]] = 0;
    this.touchedCount = 0;
  }
}
